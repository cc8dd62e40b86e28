"""Rego values in Python: None, bool, int/float, str, tuple (array), RObj,
RSet. Rego equality is type-aware (true != 1), so sets and object keys are
indexed by canon(), a type-tagged hashable form."""
import json


class RObj:
    __slots__ = ("d", "_c")

    def __init__(self, pairs=()):
        self.d = {}
        self._c = None
        for k, v in pairs:
            self.d[canon(k)] = (k, v)

    def get(self, k, default=None):
        e = self.d.get(canon(k))
        return default if e is None else e[1]

    def has(self, k):
        return canon(k) in self.d

    def items(self):
        return list(self.d.values())

    def keys(self):
        return [k for k, _ in self.d.values()]

    def __len__(self):
        return len(self.d)


class RSet:
    __slots__ = ("d", "_c")

    def __init__(self, items=()):
        self.d = {}
        self._c = None
        for v in items:
            self.d[canon(v)] = v

    def has(self, v):
        return canon(v) in self.d

    def items(self):
        return list(self.d.values())

    def __len__(self):
        return len(self.d)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def canon(v):
    if v is None:
        return ("n",)
    if isinstance(v, bool):
        return ("b", v)
    if is_num(v):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return ("#", v)
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, tuple):
        return ("a",) + tuple(canon(x) for x in v)
    if isinstance(v, RSet):
        if v._c is None:
            v._c = ("S", frozenset(v.d))
        return v._c
    if isinstance(v, RObj):
        if v._c is None:
            v._c = ("o", frozenset((k, canon(x[1])) for k, x in v.d.items()))
        return v._c
    raise TypeError(f"not a Rego value: {type(v).__name__}")


def equal(a, b):
    return canon(a) == canon(b)


def from_json(j):
    if isinstance(j, list):
        return tuple(from_json(x) for x in j)
    if isinstance(j, dict):
        return RObj((k, from_json(v)) for k, v in j.items())
    if j is None or isinstance(j, (bool, int, float, str)):
        return j
    raise TypeError(f"not JSON: {type(j).__name__}")


def _sort_key(v):
    return json.dumps(to_json(v), sort_keys=True)


def to_json(v):
    """As OPA hands results to Go: sets become arrays (sorted)."""
    if isinstance(v, tuple):
        return [to_json(x) for x in v]
    if isinstance(v, RObj):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                k = json.dumps(to_json(k))
            out[k] = to_json(x)
        return out
    if isinstance(v, RSet):
        return sorted((to_json(x) for x in v.items()), key=lambda x: json.dumps(x, sort_keys=True))
    return v


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if is_num(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, tuple):
        return "array"
    if isinstance(v, RObj):
        return "object"
    if isinstance(v, RSet):
        return "set"
    return type(v).__name__
