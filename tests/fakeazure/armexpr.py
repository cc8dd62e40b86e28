"""The small part of the ARM template expression language the stand-in
evaluates: enough to fill `[parameters('x')]`, `[variables('x')]`,
`[resourceGroup().location]`, `[concat(...)]`, `[resourceId(...)]` so that
tests can assert what a deployment really put into a container group.
Anything else is left as the literal string (a fake, not ARM)."""
import base64
import re

TOKEN_RE = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[(),.\[\]]))")


class Unsupported(Exception):
    pass


def tokens(s):
    pos, out = 0, []
    while pos < len(s):
        m = TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            if s[pos:].strip() == "":
                break
            raise Unsupported(s)
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Eval:
    def __init__(self, ctx):
        self.ctx = ctx  # parameters, variables, rg, location, subscription

    def run(self, text):
        self.toks, self.i = tokens(text), 0
        v = self.expr()
        if self.i != len(self.toks):
            raise Unsupported(text)
        return v

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, val=None):
        t = self.peek()
        if t[0] is None or (val is not None and t[1] != val):
            raise Unsupported(val)
        self.i += 1
        return t

    def expr(self):
        kind, val = self.take()
        if kind == "str":
            v = val[1:-1].replace("''", "'")
        elif kind == "num":
            v = int(val)
        elif kind == "id":
            self.take("(")
            args = []
            if self.peek()[1] != ")":
                args.append(self.expr())
                while self.peek()[1] == ",":
                    self.take(",")
                    args.append(self.expr())
            self.take(")")
            v = self.call(val.lower(), args)
        else:
            raise Unsupported(val)
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                prop = self.take()[1]
                if not isinstance(v, dict) or prop not in v:
                    raise Unsupported(prop)
                v = v[prop]
            else:
                idx = self.expr()
                self.take("]")
                v = v[idx]
        return v

    def call(self, fn, a):
        c = self.ctx
        if fn == "parameters":
            return c["parameters"][a[0]]
        if fn == "variables":
            return c["variables"][a[0]]
        if fn == "concat":
            if all(isinstance(x, list) for x in a):
                return sum(a, [])
            return "".join(str(x) for x in a)
        if fn == "resourcegroup":
            return {"name": c["rg"], "location": c["location"],
                    "id": "/subscriptions/%s/resourceGroups/%s" % (c["subscription"], c["rg"])}
        if fn == "subscription":
            return {"subscriptionId": c["subscription"], "id": "/subscriptions/" + c["subscription"]}
        if fn == "resourceid":
            typ, names = a[0], a[1:]
            segs = typ.split("/")
            path = segs[0]
            for t, n in zip(segs[1:], names):
                path += "/%s/%s" % (t, n)
            return "/subscriptions/%s/resourceGroups/%s/providers/%s" % (c["subscription"], c["rg"], path)
        if fn == "tolower":
            return str(a[0]).lower()
        if fn == "string":
            return str(a[0])
        if fn == "base64":
            return base64.b64encode(str(a[0]).encode()).decode()
        raise Unsupported(fn)


def evaluate(value, ctx):
    """Evaluates every "[...]" string in a JSON value (not "[[": a literal)."""
    if isinstance(value, dict):
        return {k: evaluate(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, ctx) for v in value]
    if isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[["):
        try:
            return Eval(ctx).run(value[1:-1])
        except (Unsupported, KeyError, IndexError, TypeError):
            return value
    return value
