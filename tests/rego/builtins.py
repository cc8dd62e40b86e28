"""The built-in functions hcsshim's framework uses, written from the OPA
policy reference. A type error inside a built-in makes the call undefined
(OPA's default, non-strict built-in errors); a construct this module cannot
honour faithfully (an RE2 feature Python lacks) raises RegoError."""
import re

from .parser import RegoError
from .values import RObj, RSet, canon, is_num, type_name


class BuiltinUndefined(Exception):
    """a runtime built-in error: the call is undefined"""


def _need(v, *types):
    names = {"string": str, "array": tuple, "object": RObj, "set": RSet}
    for t in types:
        if t == "number" and is_num(v):
            return
        if t in names and isinstance(v, names[t]):
            return
    raise BuiltinUndefined(f"expected {'/'.join(types)}, got {type_name(v)}")


def _count(x):
    _need(x, "string", "array", "object", "set")
    return len(x)


SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$")


def _semver(s):
    _need(s, "string")
    m = SEMVER.match(s)
    if not m:
        raise BuiltinUndefined(f"not a semantic version: {s!r}")
    return m


def _semver_compare(a, b):
    ma, mb = _semver(a), _semver(b)
    ka = tuple(int(ma.group(i)) for i in (1, 2, 3))
    kb = tuple(int(mb.group(i)) for i in (1, 2, 3))
    if ka != kb:
        return -1 if ka < kb else 1
    pa, pb = ma.group(4), mb.group(4)
    if pa == pb:
        return 0
    if pa is None:
        return 1
    if pb is None:
        return -1
    # semver.org §11: identifiers compared one by one
    for x, y in zip(pa.split("."), pb.split(".")):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit():
            return -1
        if y.isdigit():
            return 1
        return -1 if x < y else 1
    la, lb = len(pa.split(".")), len(pb.split("."))
    return 0 if la == lb else (-1 if la < lb else 1)


def _semver_is_valid(v):
    return isinstance(v, str) and SEMVER.match(v) is not None


def re2_to_python(p):
    """RE2 (Go regexp) syntax to Python re with the same meaning for the
    constructs confcom policies use. RE2's $ (no m flag) matches only at the
    end of text, Python's also before a final newline: emit \\Z. Inline
    flags (?i) mid-pattern apply to the rest of the enclosing group in RE2;
    Python requires the scoped form (?i:...)."""
    out, i, depth_extra, in_class = [], 0, [0], False
    while i < len(p):
        c = p[i]
        if c == "\\":
            if i + 1 >= len(p):
                raise BuiltinUndefined("trailing backslash")
            n = p[i + 1]
            if n in "pPQECzbB" and not in_class:
                if n == "z":
                    out.append(r"\Z")
                    i += 2
                    continue
                if n in "bB":
                    out.append(p[i:i + 2])
                    i += 2
                    continue
                raise RegoError(f"regex escape \\{n} is not supported by this interpreter: {p!r}")
            if n.isdigit() and n != "0":
                raise BuiltinUndefined("backreferences are not RE2")
            out.append(p[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" and p[i:i + 2] == "[:":
                raise RegoError(f"POSIX classes are not supported by this interpreter: {p!r}")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < len(p) and p[i] == "^":
                out.append("^")
                i += 1
            if i < len(p) and p[i] == "]":
                out.append(r"\]")
                i += 1
            continue
        if c == "(":
            m = re.match(r"\(\?([imsU]*)(-[imsU]*)?\)", p[i:])
            if m:
                if "U" in m.group(0):
                    raise RegoError(f"regex flag U is not supported: {p!r}")
                out.append(m.group(0)[:-1] + ":")
                depth_extra[-1] += 1
                i += m.end()
                continue
            if p.startswith("(?P<", i) or p.startswith("(?:", i) or re.match(r"\(\?[imsU-]+:", p[i:]):
                pass
            elif p.startswith("(?", i):
                raise RegoError(f"regex group {p[i:i + 4]!r} is not RE2/supported: {p!r}")
            depth_extra.append(0)
            out.append(c)
            i += 1
            continue
        if c == ")":
            if len(depth_extra) > 1:
                out.append(")" * depth_extra.pop())
            out.append(c)
            i += 1
            continue
        if c == "$":
            out.append(r"\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    out.append(")" * depth_extra[0])
    return "".join(out)


_RE_CACHE = {}


def _regex_match(pattern, value):
    _need(pattern, "string")
    _need(value, "string")
    r = _RE_CACHE.get(pattern)
    if r is None:
        try:
            r = re.compile(re2_to_python(pattern), re.S * 0)
        except re.error as e:
            raise BuiltinUndefined(f"bad regex {pattern!r}: {e}")
        _RE_CACHE[pattern] = r
    return r.search(value) is not None


def _object_get(obj, key, default):
    _need(obj, "object")
    if isinstance(key, tuple):
        cur = obj
        for k in key:
            if isinstance(cur, RObj) and cur.has(k):
                cur = cur.get(k)
            else:
                return default
        return cur
    return obj.get(key) if obj.has(key) else default


def _object_union(a, b):
    _need(a, "object")
    _need(b, "object")
    out = dict(a.d)
    for ck, (k, v) in b.d.items():
        if ck in out and isinstance(out[ck][1], RObj) and isinstance(v, RObj):
            out[ck] = (k, _object_union(out[ck][1], v))
        else:
            out[ck] = (k, v)
    return RObj(out.values())


def _concat(delim, coll):
    _need(delim, "string")
    _need(coll, "array", "set")
    items = coll.items() if isinstance(coll, RSet) else coll
    if isinstance(coll, RSet):
        items = sorted(items, key=canon)
    for x in items:
        _need(x, "string")
    return delim.join(items)


def _array_concat(a, b):
    _need(a, "array")
    _need(b, "array")
    return a + b


def _to_number(x):
    if x is None:
        return 0
    if isinstance(x, bool):
        return 1 if x else 0
    if is_num(x):
        return x
    _need(x, "string")
    try:
        if re.fullmatch(r"[+-]?\d+", x.strip()):
            return int(x)
        v = float(x)
    except ValueError:
        raise BuiltinUndefined(f"to_number: {x!r}")
    if v != v or v in (float("inf"), float("-inf")):
        raise BuiltinUndefined("to_number: not finite")
    return int(v) if v.is_integer() else v


def _setof(x):
    _need(x, "set")
    for s in x.items():
        _need(s, "set")
    return x.items()


def _union(x):
    out = RSet()
    for s in _setof(x):
        out.d.update(s.d)
    return out


def _intersection(x):
    sets = _setof(x)
    if not sets:
        return RSet()
    keys = set(sets[0].d)
    for s in sets[1:]:
        keys &= set(s.d)
    return RSet(sets[0].d[k] for k in keys)


def _max(x):
    _need(x, "array", "set")
    items = x.items() if isinstance(x, RSet) else list(x)
    if not items:
        raise BuiltinUndefined("max of empty collection")
    for v in items:
        if not is_num(v) and not isinstance(v, str):
            raise RegoError("max over non-scalar values is not supported")
    if len({type_name(v) for v in items}) > 1:
        raise RegoError("max over mixed types is not supported")
    return max(items)


def _substring(s, start, length):
    _need(s, "string")
    _need(start, "number")
    _need(length, "number")
    if start < 0:
        raise BuiltinUndefined("negative offset")
    if start >= len(s):
        return ""
    return s[int(start):] if length < 0 else s[int(start):int(start) + int(length)]


def _indexof(s, sub):
    _need(s, "string")
    _need(sub, "string")
    return s.find(sub)


def _sprintf(fmt, args):
    _need(fmt, "string")
    _need(args, "array")
    out, ai, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1:i + 2]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if verb not in ("v", "s", "d") or ai >= len(args):
            raise RegoError(f"sprintf verb %{verb} is not supported")
        a = args[ai]
        ai += 1
        if isinstance(a, str):
            out.append(a)
        elif isinstance(a, bool):
            out.append("true" if a else "false")
        elif is_num(a):
            out.append(str(a))
        else:
            raise RegoError("sprintf of composite values is not supported")
    return "".join(out)


def _str2(f):
    def g(a, b):
        _need(a, "string")
        _need(b, "string")
        return f(a, b)
    return g


def _replace(s, old, new):
    for x in (s, old, new):
        _need(x, "string")
    return s.replace(old, new)


def _split(s, d):
    _need(s, "string")
    _need(d, "string")
    return tuple(s.split(d)) if d else tuple(s)


def _lower(s):
    _need(s, "string")
    return s.lower()


def _object_keys(o):
    _need(o, "object")
    return RSet(o.keys())


def _set():
    return RSet()


BUILTINS = {
    "count": _count,
    "semver.compare": _semver_compare,
    "semver.is_valid": _semver_is_valid,
    "regex.match": _regex_match,
    "object.get": _object_get,
    "object.union": _object_union,
    "object.keys": _object_keys,
    "concat": _concat,
    "array.concat": _array_concat,
    "startswith": _str2(lambda a, b: a.startswith(b)),
    "endswith": _str2(lambda a, b: a.endswith(b)),
    "to_number": _to_number,
    "union": _union,
    "intersection": _intersection,
    "max": _max,
    "substring": _substring,
    "indexof": _indexof,
    "sprintf": _sprintf,
    "replace": _replace,
    "split": _split,
    "lower": _lower,
    "set": _set,
}
