"""Checks of the interpreter against the OPA language reference's stated
semantics (expected values written from the reference, not from our
output), and that unsupported syntax raises instead of evaluating."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from rego import Interpreter, RegoError  # noqa: E402
from rego.builtins import re2_to_python  # noqa: E402
from rego.evaluator import UNDEF  # noqa: E402
from rego.values import to_json  # noqa: E402

SRC = r'''package t
import future.keywords.in
import future.keywords.every
default a := 0
a := 1 if { 2 > 1 }
b := 5 if { 2 < 1 }
default bd := "d"
f(x) := y if { y := x + 1 }
g(x) := "pos" if { x > 0 } else := "neg" if { x < 0 } else := "zero"
h("lit") := 1
h(x) := 2 if { x != "lit" }
default k(_) := "none"
k(1) := "one"
s contains x if { some x in [1, 2, 3]; x != 2 }
c := [v | some i, v in [5, 6, 7]; i > 0]
o := {k: v | some k, v in {"a": 1, "b": 2}}
e if { every v in [1, 2] { v > 0 } }
ne if { every v in [1, -2] { v > 0 } }
ee if { every v in [] { false } }
eint if { every v in 42 { v > 1 } }
eundef if { every v in input.nothing { v > 1 } }
n if { not 1 == 2 }
r := count({x | x := ["a", "a", "b"][_]})
m := x if { x := data.d.k[_]; x > 1 }
iter := [i | data.d.k[i] == 2]
re1 if { regex.match("^(?i)(abc)$", "ABC") }
re2 := regex.match("^a$", "a\n")
t1 := 1 == true
t2 := count({1, true, 1.0})
t3 := [x | x := {"a": 1}["b"]]
mem := ["x" in ["x"], "y" in {"x"}, 1 in {"a": 1}]
sv := [semver.compare("0.2.3", "0.5.0"), semver.compare("1.0.0", "1.0.0-rc1"), semver.compare("0.10.0", "0.9.0")]
cnt := [count(null)] # undefined element: whole array undefined
ou := object.union({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}, "b": 4})
sub := [substring("abcdef", 2, -1), substring("abcdef", 1, 2)]
sets := [intersection({{1, 2}, {2, 3}}), union({{1}, {2}})]
conflict := x if { x := [1, 2][_] }
unsafe if { y > 1 }
'''


def main():
    it = Interpreter()
    it.add_module(SRC, "selftest.rego")
    data = {"d": {"k": [1, 2]}}

    def q(name):
        v = it.query(("t", name), {}, data)
        return "UNDEF" if v is UNDEF else to_json(v)
    expect = {
        "a": 1, "b": "UNDEF", "bd": "d", "s": [1, 3], "c": [6, 7], "o": {"a": 1, "b": 2},
        "e": True, "ne": "UNDEF", "ee": True, "eint": "UNDEF", "eundef": "UNDEF", "n": True, "r": 2, "m": 2, "iter": [1], "re1": True,
        "re2": False, "t1": False, "t2": 2, "t3": [], "mem": [True, False, True], "sv": [-1, 1, 1],
        "cnt": "UNDEF", "ou": {"a": {"x": 1, "y": 3}, "b": 4}, "sub": ["cdef", "bc"],
        "sets": [[2], [1, 2]],
    }
    bad = 0
    for name, want in expect.items():
        got = q(name)
        if got != want:
            print(f"FAIL {name}: got {got!r} want {want!r}")
            bad += 1
    from rego.evaluator import Query
    from rego.values import from_json
    qq = Query(it, from_json({}), from_json(data))
    for fn, args, want in (("f", [1], 2), ("g", [1], "pos"), ("g", [-1], "neg"), ("g", [0], "zero"),
                           ("h", ["lit"], 1), ("h", ["x"], 2), ("k", [1], "one"), ("k", [2], "none")):
        got = qq.call_function("t", fn, args)
        if got != want:
            print(f"FAIL {fn}{args}: got {got!r} want {want!r}")
            bad += 1
    for name in ("conflict", "unsafe"):
        try:
            q(name)
            print(f"FAIL {name}: no error")
            bad += 1
        except RegoError:
            pass
    for src in ("package p\nx := 1 with input as 2\n", "package p\nimport data.foo\n",
                "package p\np[x] := 1 if { x := 1 }\n", "package p\nx := f(1).y\n",
                "package p\nx if { y := 1 y := 2 }\n"):
        try:
            Interpreter().add_module(src, "bad.rego")
            print(f"FAIL parsed unsupported: {src!r}")
            bad += 1
        except RegoError:
            pass
    for pat, want in (("^a$", r"^a\Z"), ("^(?i)(x)$", r"^(?i:(x)\Z)"), ("[$]", "[$]")):
        if re2_to_python(pat) != want:
            print(f"FAIL re2 {pat}: {re2_to_python(pat)}")
            bad += 1
    try:
        re2_to_python(r"\pL")
        print("FAIL \\pL accepted")
        bad += 1
    except RegoError:
        pass
    print("rego selftest:", "FAIL" if bad else "OK")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
