"""Top-down evaluation of parsed Rego modules (OPA language reference):
bodies are conjunctions evaluated left to right with backtracking over
variable bindings; complete rules must agree on one value (else a conflict
error), partial set rules collect, functions try every definition whose
arguments unify. Results are cached per query (input and data fixed)."""
import itertools

from .builtins import BUILTINS, BuiltinUndefined
from .parser import RegoError, parse_module
from .values import RObj, RSet, canon, equal, from_json, is_num, type_name

UNBOUND = object()  # declared by `some`, not yet bound
UNDEF = object()


class Interpreter:
    def __init__(self):
        self.packages = {}  # name -> {rule name -> {"defs": [...], "default": node|None, "kind"}}
        self.base = {}      # base documents under data (JSON)
        self._ground = {}   # id(node) -> (node, (value,) or None); node kept alive

    _parsed = {}

    def ground(self, node):
        """(value,) for a literal collection without variables, refs or
        calls (the policy's big containers document), evaluated once."""
        key = id(node)
        c = self._ground.get(key)
        if c is None:
            c = self._ground[key] = (node, self._fold(node))
        return c[1]

    def _fold(self, node):
        k = node[0]
        if k == "scalar":
            return (node[1],)
        if k in ("array", "set"):
            vals = [self._fold(x) for x in node[1]]
            if any(v is None for v in vals):
                return None
            items = [v[0] for v in vals]
            return (tuple(items),) if k == "array" else (RSet(items),)
        if k == "object":
            pairs = [(self._fold(a), self._fold(b)) for a, b in node[1]]
            if any(a is None or b is None for a, b in pairs):
                return None
            return (RObj((a[0], b[0]) for a, b in pairs),)
        return None

    def add_module(self, text, name):
        key = (text, name)
        mod = Interpreter._parsed.get(key)
        if mod is None:
            mod = Interpreter._parsed[key] = parse_module(text, name)
        if len(mod["package"]) != 1:
            raise RegoError(f"{name}: only single-segment packages are supported")
        pkg = self.packages.setdefault(mod["package"][0], {})
        for r in mod["rules"]:
            e = pkg.setdefault(r["name"], {"defs": [], "default": None, "kind": None, "fdefault": None})
            if r["kind"] == "default":
                if r["args"] is not None:
                    e["fdefault"] = r
                    kind = "function"
                else:
                    e["default"] = r["value"]
                    kind = "complete"
            else:
                kind = r["kind"]
                e["defs"].append(r)
            if e["kind"] not in (None, kind):
                raise RegoError(f"{name}:{r['line']}: rule {r['name']} defined as {e['kind']} and {kind}")
            e["kind"] = kind
        return mod

    def query(self, path, input_json, data_json):
        """Evaluates data.<pkg>.<rule>; returns the JSON value or UNDEF."""
        q = Query(self, from_json(input_json), from_json(data_json))
        pkg, rule = path
        v = q.rule_value(pkg, rule)
        return v


class Query:
    def __init__(self, interp, inp, data):
        self.ip = interp
        self.input = inp
        self.data = data
        self.cache = {}
        self.fcache = {}
        self.active = set()

    # --- rules
    def rule_value(self, pkg, name):
        key = (pkg, name)
        if key in self.cache:
            return self.cache[key]
        rules = self.ip.packages.get(pkg, {})
        e = rules.get(name)
        if e is None:
            return UNDEF
        if e["kind"] == "function":
            raise RegoError(f"function {pkg}.{name} used as a value")
        if key in self.active:
            raise RegoError(f"recursion through rule {pkg}.{name}")
        self.active.add(key)
        try:
            if e["kind"] == "set":
                out = RSet()
                for r in e["defs"]:
                    for env in self.body(pkg, r["body"], 0, {}):
                        for v, _ in self.ev(pkg, r["key"], env):
                            out.d[canon(v)] = v
                val = out
            else:
                vals = {}
                for r in e["defs"]:
                    for v in self.rule_outputs(pkg, r, {}):
                        vals[canon(v)] = v
                if len(vals) > 1:
                    raise RegoError(f"conflict: complete rule {pkg}.{name} produced several values")
                if vals:
                    val = next(iter(vals.values()))
                elif e["default"] is not None:
                    val = self.const(pkg, e["default"])
                else:
                    val = UNDEF
        finally:
            self.active.discard(key)
        self.cache[key] = val
        return val

    def rule_outputs(self, pkg, r, env):
        """Values of one definition with its else chain, given bound args."""
        chain = [(r["value"], r["body"])] + [(x["value"], x["body"]) for x in r["else"]]
        for i, (vnode, body) in enumerate(chain):
            got = False
            for env2 in self.body(pkg, body, 0, env):
                got = True
                if vnode is None:
                    # a head or else without a value means true
                    yield True
                    continue
                for v, _ in self.ev(pkg, vnode, env2):
                    yield v
            if got:
                return

    def const(self, pkg, node):
        vals = [v for v, _ in self.ev(pkg, node, {})]
        if len(vals) != 1:
            raise RegoError("default value must be a single constant")
        return vals[0]

    def call_function(self, pkg, name, args):
        key = (pkg, name, tuple(canon(a) for a in args))
        if key in self.fcache:
            return self.fcache[key]
        e = self.ip.packages[pkg][name]
        vals = {}
        for r in e["defs"]:
            if len(r["args"]) != len(args):
                raise RegoError(f"{name}: called with {len(args)} args, defined with {len(r['args'])}")
            for env in self.bind_args(pkg, r["args"], args):
                for v in self.rule_outputs(pkg, r, env):
                    vals[canon(v)] = v
        if len(vals) > 1:
            raise RegoError(f"conflict: function {pkg}.{name} produced several outputs for one input")
        if vals:
            val = next(iter(vals.values()))
        elif e["fdefault"] is not None:
            d = e["fdefault"]
            if len(d["args"]) != len(args):
                raise RegoError(f"default {name}: arity mismatch")
            val = self.const(pkg, d["value"])
        else:
            val = UNDEF
        self.fcache[key] = val
        return val

    def bind_args(self, pkg, params, args):
        env = {}
        for p, a in zip(params, args):
            if p[0] == "var":
                if p[1] == "_":
                    continue
                if p[1] in env:
                    if not equal(env[p[1]], a):
                        return
                    continue
                env[p[1]] = a
            elif p[0] == "scalar":
                if not equal(p[1], a):
                    return
            else:
                raise RegoError(f"function parameter pattern {p[0]} is not supported")
        yield env

    # --- bodies
    def body(self, pkg, lits, i, env):
        if i == len(lits):
            yield env
            return
        lit = lits[i]
        k = lit[0]
        if k == "expr":
            for v, env2 in self.ev(pkg, lit[1], env):
                if v is not False:
                    yield from self.body(pkg, lits, i + 1, env2)
        elif k == "not":
            for v, _ in self.ev(pkg, lit[1], env):
                if v is not False:
                    return
            yield from self.body(pkg, lits, i + 1, env)
        elif k == "some_decl":
            env2 = dict(env)
            for n in lit[1]:
                env2[n] = UNBOUND
            yield from self.body(pkg, lits, i + 1, env2)
        elif k == "some_in":
            _, knode, vnode, cnode = lit
            for coll, env1 in self.ev(pkg, cnode, env):
                for ck, cv in self.members(coll):
                    env2 = self.match_decl(pkg, knode, ck, env1)
                    if env2 is None:
                        continue
                    env3 = self.match_decl(pkg, vnode, cv, env2)
                    if env3 is None:
                        continue
                    yield from self.body(pkg, lits, i + 1, env3)
        elif k == "every":
            _, kname, vname, cnode, ebody = lit
            for coll, env1 in self.ev(pkg, cnode, env):
                # a non-collection domain fails (OPA #6762); an undefined
                # one yields no coll at all, so the literal fails too
                ok = isinstance(coll, (tuple, RObj, RSet))
                for ck, cv in self.members(coll):
                    env2 = dict(env1)
                    if kname is not None and kname != "_":
                        env2[kname] = ck
                    if vname != "_":
                        env2[vname] = cv
                    if not any(True for _ in self.body(pkg, ebody, 0, env2)):
                        ok = False
                        break
                if ok:
                    yield from self.body(pkg, lits, i + 1, env1)
        else:
            raise RegoError(f"unsupported literal {k}")

    def members(self, coll):
        """(key, value) pairs of a collection; a scalar has none (OPA: undefined)."""
        if isinstance(coll, tuple):
            return list(enumerate(coll))
        if isinstance(coll, RObj):
            return coll.items()
        if isinstance(coll, RSet):
            return [(x, x) for x in coll.items()]
        return []

    def match_decl(self, pkg, node, value, env):
        """`some k, v in` targets: a name declares a fresh local; anything
        else is evaluated and compared."""
        if node is None:
            return env
        if node[0] == "var":
            if node[1] == "_":
                return env
            env2 = dict(env)
            env2[node[1]] = value
            return env2
        vals = [v for v, _ in self.ev(pkg, node, env)]
        if len(vals) != 1:
            raise RegoError("some ... in: unsupported pattern")
        return env if equal(vals[0], value) else None

    # --- expressions: generators of (value, env)
    def lookup(self, pkg, name, env):
        """Returns a value, UNDEF, or UNBOUND for a variable not yet bound."""
        if name in env:
            return env[name]
        if name == "_":
            return UNBOUND
        if name == "input":
            return self.input
        if name in self.ip.packages.get(pkg, {}):
            return self.rule_value(pkg, name)
        if name == "data":
            raise RegoError("bare data without a path is not supported")
        return UNBOUND

    def ev(self, pkg, node, env):
        k = node[0]
        if k == "scalar":
            yield node[1], env
        elif k == "var":
            v = self.lookup(pkg, node[1], env)
            if v is UNBOUND:
                raise RegoError(f"{pkg}: unsafe variable {node[1]} (not bound where used)")
            if v is not UNDEF:
                yield v, env
        elif k == "ref":
            yield from self.ev_ref(pkg, node, env)
        elif k == "call":
            yield from self.ev_call(pkg, node, env)
        elif k in ("array", "set", "object") and self.ip.ground(node) is not None:
            yield self.ip.ground(node)[0], env
        elif k == "array":
            for vals, env2 in self.ev_all(pkg, node[1], env):
                yield tuple(vals), env2
        elif k == "set":
            for vals, env2 in self.ev_all(pkg, node[1], env):
                yield RSet(vals), env2
        elif k == "object":
            flat = [x for kv in node[1] for x in kv]
            for vals, env2 in self.ev_all(pkg, flat, env):
                yield RObj(zip(vals[0::2], vals[1::2])), env2
        elif k == "arraycomp":
            out = []
            for env2 in self.body(pkg, node[2], 0, dict(env)):
                out.extend(v for v, _ in self.ev(pkg, node[1], env2))
            yield tuple(out), env
        elif k == "setcomp":
            out = RSet()
            for env2 in self.body(pkg, node[2], 0, dict(env)):
                for v, _ in self.ev(pkg, node[1], env2):
                    out.d[canon(v)] = v
            yield out, env
        elif k == "objcomp":
            out = {}
            for env2 in self.body(pkg, node[3], 0, dict(env)):
                for kk, env3 in self.ev(pkg, node[1], env2):
                    for vv, _ in self.ev(pkg, node[2], env3):
                        ck = canon(kk)
                        if ck in out and not equal(out[ck][1], vv):
                            raise RegoError("object comprehension: conflicting values for one key")
                        out[ck] = (kk, vv)
            yield RObj(out.values()), env
        elif k == "binop":
            yield from self.ev_binop(pkg, node, env)
        elif k == "neg":
            for v, env2 in self.ev(pkg, node[1], env):
                if not is_num(v):
                    raise RegoError(f"unary minus on {type_name(v)}")
                yield -v, env2
        else:
            raise RegoError(f"unsupported expression {k}")

    def ev_all(self, pkg, nodes, env):
        if not nodes:
            yield [], env
            return
        for v, env2 in self.ev(pkg, nodes[0], env):
            for rest, env3 in self.ev_all(pkg, nodes[1:], env2):
                yield [v] + rest, env3

    def ev_call(self, pkg, node, env):
        _, fname, argn, line = node
        rules = self.ip.packages.get(pkg, {})
        if "." not in fname and fname in rules:
            if rules[fname]["kind"] != "function":
                raise RegoError(f"{pkg}:{line}: {fname} is not a function")
            for args, env2 in self.ev_all(pkg, argn, env):
                v = self.call_function(pkg, fname, args)
                if v is not UNDEF:
                    yield v, env2
            return
        f = BUILTINS.get(fname)
        if f is None:
            raise RegoError(f"{pkg}:{line}: function {fname} is not supported")
        for args, env2 in self.ev_all(pkg, argn, env):
            try:
                v = f(*args)
            except BuiltinUndefined:
                continue
            except TypeError as e:
                raise RegoError(f"{pkg}:{line}: {fname}: {e}")
            yield v, env2

    def ev_ref(self, pkg, node, env):
        _, head, keys = node
        if head[0] == "var" and head[1] == "data" and "data" not in env:
            yield from self.ev_data(pkg, keys, env)
            return
        for hv, env2 in self.ev(pkg, head, env):
            yield from self.walk(pkg, hv, keys, env2)

    def ev_data(self, pkg, keys, env):
        for first, env2 in self.ev_key(pkg, keys[0], env):
            if isinstance(first, str) and first in self.ip.packages:
                if len(keys) < 2:
                    raise RegoError(f"data.{first} as a whole document is not supported")
                for rname, env3 in self.ev_key(pkg, keys[1], env2):
                    if not isinstance(rname, str):
                        continue
                    if rname not in self.ip.packages[first]:
                        continue
                    v = self.rule_value(first, rname)
                    if v is not UNDEF:
                        yield from self.walk(pkg, v, keys[2:], env3)
            elif isinstance(first, str) and self.data.has(first):
                yield from self.walk(pkg, self.data.get(first), keys[1:], env2)

    def ev_key(self, pkg, knode, env):
        if knode[0] == "var" and self.lookup(pkg, knode[1], env) is UNBOUND:
            raise RegoError(f"iterating over data[{knode[1]}] is not supported")
        yield from self.ev(pkg, knode, env)

    def walk(self, pkg, val, keys, env):
        if not keys:
            yield val, env
            return
        knode = keys[0]
        if knode[0] == "var" and self.lookup(pkg, knode[1], env) is UNBOUND:
            for ck, cv in self.members(val):
                env2 = env
                if knode[1] != "_":
                    env2 = dict(env)
                    env2[knode[1]] = ck
                yield from self.walk(pkg, cv, keys[1:], env2)
            return
        for kv, env2 in self.ev(pkg, knode, env):
            found, nv = self.index(val, kv)
            if found:
                yield from self.walk(pkg, nv, keys[1:], env2)

    def index(self, val, k):
        if isinstance(val, tuple):
            if is_num(k) and float(k).is_integer() and 0 <= int(k) < len(val):
                return True, val[int(k)]
            return False, None
        if isinstance(val, RObj):
            return (True, val.get(k)) if val.has(k) else (False, None)
        if isinstance(val, RSet):
            return (True, k) if val.has(k) else (False, None)
        return False, None

    def ev_binop(self, pkg, node, env):
        _, op, lhs, rhs = node
        if op == ":=":
            if lhs[0] != "var" or lhs[1] == "_":
                raise RegoError(f"{pkg}: only a plain variable may be assigned with :=")
            for v, env2 in self.ev(pkg, rhs, env):
                env3 = dict(env2)
                env3[lhs[1]] = v
                yield True, env3
            return
        if op == "=":
            for side, other in ((lhs, rhs), (rhs, lhs)):
                if side[0] == "var" and self.lookup(pkg, side[1], env) is UNBOUND:
                    for v, env2 in self.ev(pkg, other, env):
                        env3 = dict(env2)
                        if side[1] != "_":
                            env3[side[1]] = v
                        yield True, env3
                    return
            for a, env2 in self.ev(pkg, lhs, env):
                for b, env3 in self.ev(pkg, rhs, env2):
                    if equal(a, b):
                        yield True, env3
            return
        for a, env2 in self.ev(pkg, lhs, env):
            for b, env3 in self.ev(pkg, rhs, env2):
                yield self.apply(op, a, b), env3

    def apply(self, op, a, b):
        if op == "==":
            return equal(a, b)
        if op == "!=":
            return not equal(a, b)
        if op == "in":
            if isinstance(b, (tuple, RObj)):
                return any(equal(a, v) for _, v in self.members(b))
            if isinstance(b, RSet):
                return b.has(a)
            return False
        if op in ("<", ">", "<=", ">="):
            if not ((is_num(a) and is_num(b)) or (isinstance(a, str) and isinstance(b, str))):
                raise RegoError(f"ordering {type_name(a)} {op} {type_name(b)} is not supported")
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        if op in ("+", "-", "*", "/", "%"):
            if op == "-" and isinstance(a, RSet) and isinstance(b, RSet):
                return RSet(x for x in a.items() if not b.has(x))
            if not (is_num(a) and is_num(b)):
                raise RegoError(f"arithmetic {type_name(a)} {op} {type_name(b)} is not supported")
            if op == "/":
                if b == 0:
                    raise RegoError("division by zero")
                r = a / b
                return int(r) if r.is_integer() else r
            if op == "%":
                if not (isinstance(a, int) and isinstance(b, int)) or b == 0:
                    raise RegoError("modulo needs non-zero integers")
                return int(__import__("math").fmod(a, b))
            return {"+": a + b, "-": a - b, "*": a * b}[op]
        if op in ("|", "&"):
            if not (isinstance(a, RSet) and isinstance(b, RSet)):
                raise RegoError(f"set operator {op} on {type_name(a)}")
            if op == "|":
                return RSet(a.items() + b.items())
            return RSet(x for x in a.items() if b.has(x))
        raise RegoError(f"operator {op} is not supported")


__all__ = ["Interpreter", "Query", "UNDEF", "RegoError", "itertools"]
