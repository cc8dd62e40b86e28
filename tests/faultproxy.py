#!/usr/bin/env python3
"""faultproxy.py: a tiny HTTPS reverse proxy that injects faults in front of
a real (or fake) HTTPS server, for tests of nutapply's retry rules
(azure-rest.md §9 "Fault injection"). Python 3 stdlib only.

Usage:
  faultproxy.py --cert PEM --key PEM --upstream HOST:PORT [--upstream-ca PEM]
                [--port-file FILE] [--log FILE] [--match SUBSTR]
                [--fault KIND:EVERY[:ARG]]...

  --cert/--key     the proxy's own TLS server certificate (signed by the test CA)
  --upstream       where requests go (HTTPS; verified with --upstream-ca)
  --port-file      the proxy listens on a free 127.0.0.1 port and writes it here
  --log            one line per request: "<n> <METHOD> <path> -> <action> <status>"
  --match SUBSTR   only requests whose "METHOD path?query" contains SUBSTR are
                   counted and faulted (e.g. "comp=page"); others pass through
  --fault KIND:EVERY[:ARG]  fault every EVERY-th matching request (1 = all,
                   0 = never); several --fault options may be given, the first
                   that fires wins. KIND is one of:
     429        answer 429 with Retry-After: ARG seconds (default 1)
     503        answer 503 ServerBusy (storage XML error body)
     500        answer 500 OperationTimedOut
     reset      read the request head and part of the body, then reset the
                connection (SO_LINGER 0): a dropped connection mid-upload
     slow       forward, but wait ARG seconds (default 2) before replying
     truncate   forward, but cut the response body in half and close
     corrupt    forward with one byte of the request body flipped (headers as
                sent: Azurite 3.35 accepts a wrong Content-MD5, azure-rest.md §2.4)
  --limit N        stop injecting after N faults (default: unlimited)

The proxy forwards everything else unchanged, keeps client connections alive,
and exits on SIGTERM. It never logs headers or bodies (they carry secrets).
"""
import argparse, http.client, os, signal, socket, socketserver, ssl, struct, sys, threading, time

A = None
lock = threading.Lock()
state = {"n": 0, "faults": 0}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--upstream-ca")
    p.add_argument("--port-file")
    p.add_argument("--log")
    p.add_argument("--match", default="")
    p.add_argument("--fault", action="append", default=[])
    p.add_argument("--limit", type=int, default=-1)
    a = p.parse_args()
    a.rules = []
    for f in a.fault:
        parts = f.split(":")
        if parts[0] not in ("429", "503", "500", "reset", "slow", "truncate", "corrupt") or len(parts) < 2:
            p.error("--fault %s: KIND:EVERY[:ARG]" % f)
        a.rules.append((parts[0], int(parts[1]), float(parts[2]) if len(parts) > 2 else None))
    return a


def log(line):
    if A.log:
        with lock, open(A.log, "a") as f:
            f.write(line + "\n")


def storage_error(code, msg):
    return ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s\n'
            'RequestId:00000000-0000-0000-0000-000000000000</Message></Error>' % (code, msg)).encode()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(A.cert, A.key)
        try:
            conn = ctx.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        f = conn.makefile("rb")
        up = None
        try:
            while True:
                line = f.readline(65537)
                if not line:
                    return
                reqline = line.decode("latin-1").rstrip("\r\n")
                if not reqline:
                    continue
                method, target, _ = reqline.split(" ", 2)
                headers = []
                while True:
                    h = f.readline(65537).decode("latin-1").rstrip("\r\n")
                    if not h:
                        break
                    k, v = h.split(":", 1)
                    headers.append((k.strip(), v.strip()))
                length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
                action = "pass"
                arg = None
                if A.match in "%s %s" % (method, target):
                    with lock:
                        state["n"] += 1
                        n = state["n"]
                        if A.limit < 0 or state["faults"] < A.limit:
                            for kind, every, a in A.rules:
                                if every > 0 and n % every == 0:
                                    action, arg = kind, a
                                    state["faults"] += 1
                                    break
                else:
                    n = 0
                if action == "reset":
                    if length:
                        f.read(min(length, max(1, length // 2)))
                    log("%d %s %s -> reset" % (n, method, target.split("?")[0]))
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                    return
                body = f.read(length) if length else b""
                if action == "corrupt" and body:
                    body = body[:length // 2] + bytes([body[length // 2] ^ 1]) + body[length // 2 + 1:]
                if action in ("429", "503", "500"):
                    st = int(action)
                    code = {429: "TooManyRequests", 503: "ServerBusy", 500: "OperationTimedOut"}[st]
                    eb = storage_error(code, "injected by faultproxy")
                    extra = "Retry-After: %d\r\n" % int(arg if arg is not None else 1) if st == 429 else ""
                    resp = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                            "x-ms-error-code: %s\r\nx-ms-request-id: faultproxy-%d\r\n%s\r\n"
                            % (st, code, len(eb), code, n, extra)).encode()
                    conn.sendall(resp + (b"" if method == "HEAD" else eb))
                    log("%d %s %s -> %s %d" % (n, method, target.split("?")[0], action, st))
                    continue
                if up is None:
                    host, port = A.upstream.rsplit(":", 1)
                    uctx = ssl.create_default_context(cafile=A.upstream_ca)
                    up = http.client.HTTPSConnection(host, int(port), context=uctx, timeout=120)
                fwd = {k: v for k, v in headers if k.lower() not in ("connection", "keep-alive")}
                try:
                    up.request(method, target, body=body, headers=fwd)
                    r = up.getresponse()
                    rb = r.read()
                except (OSError, http.client.HTTPException):
                    up.close()
                    up = None
                    conn.close()
                    return
                if action == "slow":
                    time.sleep(arg if arg is not None else 2)
                out = "HTTP/1.1 %d %s\r\n" % (r.status, r.reason)
                for k, v in r.getheaders():
                    if k.lower() in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                        continue
                    out += "%s: %s\r\n" % (k, v)
                clen = len(rb) if method != "HEAD" else int(r.getheader("Content-Length", "0") or 0)
                out += "Content-Length: %d\r\n\r\n" % clen
                if action == "truncate" and method != "HEAD":
                    conn.sendall(out.encode("latin-1") + rb[: len(rb) // 2])
                    log("%d %s %s -> truncate %d" % (n, method, target.split("?")[0], r.status))
                    conn.close()
                    return
                conn.sendall(out.encode("latin-1") + (rb if method != "HEAD" else b""))
                log("%d %s %s -> %s %d" % (n, method, target.split("?")[0], action, r.status))
        except (OSError, ValueError, ssl.SSLError):
            return
        finally:
            if up is not None:
                up.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global A
    A = parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    if A.port_file:
        tmp = A.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, A.port_file)
    signal.signal(signal.SIGTERM, lambda *_: (srv.server_close(), os._exit(0)))
    srv.serve_forever()


if __name__ == "__main__":
    main()
