"""Lexer and parser for the Rego subset used by hcsshim's framework.rego,
api.rego and confcom-style policies (OPA language reference: modules,
rules, default/else, functions, partial set rules, comprehensions, some,
every, in, not). Anything outside the subset raises RegoError: the
interpreter never guesses a meaning."""
import json
import re


class RegoError(Exception):
    pass


KEYWORDS = {"package", "import", "default", "if", "else", "contains", "some", "every", "in", "not",
            "with", "as", "true", "false", "null"}
# longest first
OPS = [":=", "==", "!=", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "%", "|", "&",
       "(", ")", "[", "]", "{", "}", ",", ";", ".", ":"]
TOKEN_RE = re.compile(r"""
  (?P<ws>[ \t\r]+) | (?P<nl>\n) | (?P<comment>\#[^\n]*) |
  (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z_0-9])) |
  (?P<str>"(?:[^"\\\n]|\\.)*") | (?P<raw>`[^`]*`) |
  (?P<ident>[A-Za-z_][A-Za-z0-9_]*) |
  (?P<op>:=|==|!=|<=|>=|[<>=+\-*/%|&()\[\]{},;.:])
""", re.X)


class Tok:
    __slots__ = ("kind", "val", "line", "nl")

    def __init__(self, kind, val, line, nl):
        self.kind, self.val, self.line, self.nl = kind, val, line, nl

    def __repr__(self):
        return f"{self.kind}:{self.val!r}@{self.line}"


def tokenize(text, name="<rego>"):
    toks, pos, line, nl = [], 0, 1, True
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise RegoError(f"{name}:{line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        val = m.group(kind)
        pos = m.end()
        if kind == "nl":
            line += 1
            nl = True
            continue
        if kind in ("ws", "comment"):
            continue
        if kind == "num":
            # a minus directly after a value is the binary operator (x-1)
            if val.startswith("-") and toks and (toks[-1].kind in ("num", "str", "ident") or
                                                  toks[-1].val in (")", "]", "}")) and not nl:
                toks.append(Tok("op", "-", line, nl))
                nl = False
                val = val[1:]
            v = float(val) if any(c in val for c in ".eE") else int(val)
            toks.append(Tok("num", v, line, nl))
        elif kind == "str":
            toks.append(Tok("str", json.loads(val), line, nl))
        elif kind == "raw":
            toks.append(Tok("str", val[1:-1], line, nl))
            line += val.count("\n")
        elif kind == "ident":
            toks.append(Tok("kw" if val in KEYWORDS else "ident", val, line, nl))
        else:
            toks.append(Tok("op", val, line, nl))
        nl = False
    toks.append(Tok("eof", None, line, True))
    return toks


# AST nodes are tuples: (kind, ...)
#   ("scalar", value)  ("var", name)  ("ref", head_node, [key_node...])
#   ("call", dotted_name, [args])  ("array", [items])  ("object", [(k, v)])
#   ("set", [items])  ("arraycomp", term, body)  ("setcomp", term, body)
#   ("objcomp", key, value, body)  ("binop", op, lhs, rhs)  ("neg", expr)
# Body literals: ("expr", node) ("not", node) ("some_decl", [names])
#   ("some_in", key_node|None, value_node, coll_node)
#   ("every", key_name|None, value_name, coll_node, body)


class Parser:
    def __init__(self, text, name):
        self.name = name
        self.toks = tokenize(text, name)
        self.i = 0

    # --- token helpers
    def peek(self, k=0):
        return self.toks[self.i + k]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, val, kinds=("op", "kw")):
        t = self.peek()
        return t.kind in kinds and t.val == val

    def expect(self, val):
        t = self.next()
        if t.val != val or t.kind not in ("op", "kw"):
            self.fail(t, f"expected {val!r}, got {t.val!r}")
        return t

    def fail(self, t, msg):
        raise RegoError(f"{self.name}:{t.line}: {msg}")

    def ident(self):
        t = self.next()
        if t.kind != "ident":
            self.fail(t, f"expected a name, got {t.val!r}")
        return t.val

    # --- module
    def module(self):
        self.expect("package")
        path = [self.ident()]
        while self.at("."):
            self.next()
            path.append(self.ident())
        imports, rules = [], []
        while self.at("import"):
            t = self.next()
            p = [self.ident()]
            while self.at("."):
                self.next()
                k = self.next()
                if k.kind not in ("ident", "kw"):
                    self.fail(k, "expected a name in the import path")
                p.append(k.val)
            if self.at("as"):
                self.fail(t, "import ... as is not supported")
            if p[:2] not in (["future", "keywords"], ["rego", "v1"]):
                self.fail(t, f"import {'.'.join(p)} is not supported")
            imports.append(p)
        while self.peek().kind != "eof":
            rules.extend(self.rule())
        return {"package": path, "rules": rules, "name": self.name}

    def rule(self):
        t = self.peek()
        if self.at("default"):
            self.next()
            name = self.ident()
            args = None
            if self.at("("):
                args = self.call_args()
            if not (self.at(":=") or self.at("=")):
                self.fail(t, "default rule needs := or =")
            self.next()
            val = self.expr()
            return [{"kind": "default", "name": name, "args": args, "value": val, "line": t.line}]
        if t.kind != "ident":
            self.fail(t, f"expected a rule, got {t.val!r}")
        name = self.ident()
        if self.at("."):
            self.fail(t, "dotted rule heads are not supported")
        r = {"name": name, "line": t.line, "args": None, "kind": "complete", "value": None,
             "key": None, "body": [], "else": []}
        if self.at("("):
            r["args"] = self.call_args()
            r["kind"] = "function"
        if self.at("["):
            self.fail(self.peek(), "p[x] rule heads are not supported (use contains)")
        if self.at("contains"):
            self.next()
            r["kind"] = "set"
            r["key"] = self.expr()
        elif self.at(":=") or self.at("="):
            self.next()
            r["value"] = self.expr()
        r["body"] = self.rule_body(required=False)
        while self.at("else"):
            et = self.next()
            if r["kind"] == "set":
                self.fail(et, "else on a partial set rule")
            ev = None
            if self.at(":=") or self.at("="):
                self.next()
                ev = self.expr()
            r["else"].append({"value": ev, "body": self.rule_body(required=False), "line": et.line})
        return [r]

    def rule_body(self, required):
        has_if = False
        if self.at("if"):
            self.next()
            has_if = True
        if self.at("{") and (has_if or self._brace_is_body()):
            self.next()
            body = self.body("}")
            self.expect("}")
            return body
        if has_if:
            return [self.literal()]
        return []

    def _brace_is_body(self):
        # "name { body }" (Rego v0 style, no if): only when the brace follows
        # on the same line as a rule head.
        return not self.peek().nl

    def call_args(self):
        self.expect("(")
        args = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(","):
                break
            self.next()
        self.expect(")")
        return args

    # --- bodies
    def body(self, closer):
        lits = []
        while True:
            while self.at(";"):
                self.next()
            if self.at(closer):
                if not lits:
                    self.fail(self.peek(), "empty body")
                return lits
            start = self.peek()
            lits.append(self.literal())
            n = self.peek()
            if self.at(";"):
                continue
            if self.at(closer):
                continue
            if not n.nl:
                self.fail(n, f"unexpected {n.val!r} after expression starting at line {start.line}")

    def literal(self):
        t = self.peek()
        if self.at("some"):
            self.next()
            first = self.term_no_op()
            second = None
            if self.at(","):
                self.next()
                second = self.term_no_op()
            if self.at("in"):
                self.next()
                coll = self.expr_level(1)
                key, val = (first, second) if second is not None else (None, first)
                return ("some_in", key, val, coll)
            names = []
            for x in (first, second):
                if x is None:
                    continue
                if x[0] != "var":
                    self.fail(t, "some declares variables only")
                names.append(x[1])
            while self.at(","):
                self.next()
                names.append(self.ident())
            return ("some_decl", names)
        if self.at("every"):
            self.next()
            a = self.ident()
            b = None
            if self.at(","):
                self.next()
                b = self.ident()
            self.expect("in")
            coll = self.expr_level(1)
            self.expect("{")
            body = self.body("}")
            self.expect("}")
            key, val = (a, b) if b is not None else (None, a)
            return ("every", key, val, coll, body)
        if self.at("not"):
            self.next()
            e = self.expr()
            self.no_with()
            return ("not", e)
        e = self.expr()
        self.no_with()
        return ("expr", e)

    def no_with(self):
        if self.at("with"):
            self.fail(self.peek(), "'with' is not supported")

    # --- expressions, lowest precedence first
    LEVELS = [(":=", "="), ("in",), ("==", "!=", "<", ">", "<=", ">="), ("|",), ("&",), ("+", "-"),
              ("*", "/", "%")]

    def expr(self):
        return self.expr_level(0)

    def expr_level(self, lvl):
        if lvl == len(self.LEVELS):
            return self.unary()
        lhs = self.expr_level(lvl + 1)
        while True:
            t = self.peek()
            if t.kind in ("op", "kw") and t.val in self.LEVELS[lvl] and not t.nl:
                if t.val in ("|",):
                    return lhs  # comprehension bar, handled by the caller
                self.next()
                rhs = self.expr_level(lvl + 1)
                if lvl == 0:
                    return ("binop", t.val, lhs, rhs)  # assignment does not chain
                lhs = ("binop", t.val, lhs, rhs)
            else:
                return lhs

    def unary(self):
        if self.at("-"):
            self.next()
            return ("neg", self.unary())
        return self.postfix()

    def term_no_op(self):
        return self.postfix()

    def postfix(self):
        t = self.peek()
        node = self.primary()
        keys = []
        while True:
            n = self.peek()
            if n.kind == "op" and n.val == "." and not n.nl:
                self.next()
                k = self.next()
                if k.kind not in ("ident", "kw"):
                    self.fail(k, "expected a name after '.'")
                keys.append(("scalar", k.val))
            elif n.kind == "op" and n.val == "[" and not n.nl:
                self.next()
                keys.append(self.expr())
                self.expect("]")
            elif n.kind == "op" and n.val == "(" and not n.nl:
                if node[0] != "var" or any(k[0] != "scalar" or not isinstance(k[1], str) for k in keys):
                    self.fail(n, "only named functions can be called")
                fname = ".".join([node[1]] + [k[1] for k in keys])
                node, keys = ("call", fname, self.call_args(), t.line), []
                if self.at(".") or (self.at("[") and not self.peek().nl):
                    self.fail(self.peek(), "references into call results are not supported")
            else:
                break
        if keys:
            if node[0] not in ("var", "array", "object", "set", "arraycomp", "setcomp", "objcomp"):
                self.fail(t, "unsupported reference head")
            return ("ref", node, keys)
        return node

    def primary(self):
        t = self.next()
        if t.kind in ("num", "str"):
            return ("scalar", t.val)
        if t.kind == "kw" and t.val in ("true", "false", "null"):
            return ("scalar", {"true": True, "false": False, "null": None}[t.val])
        if t.kind == "ident":
            return ("var", t.val)
        if t.kind == "op" and t.val == "(":
            e = self.expr()
            self.expect(")")
            return e
        if t.kind == "op" and t.val == "[":
            if self.at("]"):
                self.next()
                return ("array", [])
            first = self.expr()
            if self.at("|"):
                self.next()
                body = self.body("]")
                self.expect("]")
                return ("arraycomp", first, body)
            items = [first]
            while self.at(","):
                self.next()
                if self.at("]"):
                    break
                items.append(self.expr())
            self.expect("]")
            return ("array", items)
        if t.kind == "op" and t.val == "{":
            if self.at("}"):
                self.next()
                return ("object", [])
            first = self.expr()
            if self.at(":"):
                self.next()
                v = self.expr()
                if self.at("|"):
                    self.next()
                    body = self.body("}")
                    self.expect("}")
                    return ("objcomp", first, v, body)
                pairs = [(first, v)]
                while self.at(","):
                    self.next()
                    if self.at("}"):
                        break
                    k = self.expr()
                    self.expect(":")
                    pairs.append((k, self.expr()))
                self.expect("}")
                return ("object", pairs)
            if self.at("|"):
                self.next()
                body = self.body("}")
                self.expect("}")
                return ("setcomp", first, body)
            items = [first]
            while self.at(","):
                self.next()
                if self.at("}"):
                    break
                items.append(self.expr())
            self.expect("}")
            return ("set", items)
        self.fail(t, f"unexpected {t.val!r}")


def parse_module(text, name="<rego>"):
    return Parser(text, name).module()
