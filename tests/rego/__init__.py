"""A Rego interpreter (subset) in Python 3 stdlib, written for nutgen's tests
from the OPA language reference. It evaluates hcsshim's framework.rego /
api.rego and generated CCE policies. Unsupported syntax raises RegoError."""
from .parser import RegoError, parse_module  # noqa: F401
from .evaluator import Interpreter  # noqa: F401
