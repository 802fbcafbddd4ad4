"""Which tests a ducktape-style module holds, as ducktape 0.12's loader finds them.

Test classes are the subclasses of ducktape's ``Test`` in the module's namespace (imported ones
too) that have no subclass when the module is loaded; test methods are the callables among
``dir(cls)`` whose name starts or ends with ``test``; each method's cases come from its marks
(``ducktape.mark.expand``), ignored cases included. A test's id is
``module.Class.method.arg=value...`` with the arguments escaped as ducktape escapes them, and a
session runs ducktape-style tests sorted by that id, each id once.
"""

from __future__ import annotations

import inspect
import re
from typing import NamedTuple

from ducttape.compat.ducktape import mark
from ducttape.compat.ducktape.tests.test import Test

TEST_METHOD = re.compile(r"^test|test$")


class Found(NamedTuple):
    """One case of one test method."""

    cls: type
    method: str
    args: dict
    num_nodes: int | None
    node_types: dict
    ignored: bool


def tests_in(module) -> list[Found]:
    """The cases of every test method of every test class in ``module``; ValueError (naming
    the method) when its marks cannot be expanded."""
    found = []
    for cls in list(vars(module).values()):
        if not (inspect.isclass(cls) and issubclass(cls, Test)) or cls.__subclasses__():
            continue
        for name in dir(cls):
            fn = getattr(cls, name, None)
            if fn is None or not (callable(fn) or mark.parametrized(fn)):
                continue
            if not TEST_METHOD.search(getattr(fn, "__name__", "")):
                continue
            try:
                cases = mark.expand(fn)
            except ValueError as exc:
                raise ValueError(f"{cls.__name__}.{name}: {exc}") from None
            found += [
                Found(cls, name, case.args or {}, case.num_nodes(), case.node_types(), case.ignored) for case in cases
            ]
    return found


def escape(text: str) -> str:
    """``text`` as ducktape puts arguments into a test id: no whitespace, every run of other
    characters than letters, digits, ``.``, ``-``, ``=`` and ``_`` one dot, no dot at either end."""
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"[^.\-=\w]+", ".", text)
    return re.sub(r"\.+", ".", text).strip(".")


def test_id(module: str, cls: str, method: str, args: dict) -> str:
    """ducktape's id of a case: ``module.Class.method`` and, for arguments, ``.a=1.b=x``."""
    params = escape(".".join(f"{k}={v}" for k, v in args.items()))
    return ".".join(part for part in (module, cls, method, params) if part)
