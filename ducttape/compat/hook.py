"""The import hook that lets a ducktape-style module import ``ducktape.*`` from our compat package.

It is installed only when the runner loads a module that imports ducktape (``imports_ducktape``),
so ducttape's own API is unchanged and, outside such a session, a real ducktape is never shadowed.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

ALIAS = "ducktape"
TARGET = "ducttape.compat.ducktape"


def imports_ducktape(path: str) -> bool:
    """Whether the Python file at ``path`` imports ducktape (``import ducktape...`` or
    ``from ducktape... import ...`` anywhere in it). A file that does not parse is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )
        if any(n == ALIAS or n.startswith(ALIAS + ".") for n in names):
            return True
    return False


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``ducktape`` and ``ducktape.X`` as the modules ``ducttape.compat.ducktape[.X]``
    (the same module objects under both names)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real_name = TARGET + fullname[len(ALIAS) :]
        real_spec = importlib.util.find_spec(real_name)
        if real_spec is None:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, self, is_package=real_spec.submodule_search_locations is not None
        )

    def create_module(self, spec):
        module = importlib.import_module(TARGET + spec.name[len(ALIAS) :])
        spec.loader_state = module.__spec__  # importlib sets module.__spec__ to ``spec`` next
        return module

    def exec_module(self, module):
        # the module ran when it was imported under its own name; give it back its own spec
        module.__spec__ = module.__spec__.loader_state


_finder = _AliasFinder()


def install() -> None:
    """Make ``ducktape.*`` importable as our compat package (idempotent). A ``ducktape`` module
    already imported in this process (a real one) is left as it is."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def installed() -> bool:
    return _finder in sys.meta_path
