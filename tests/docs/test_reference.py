"""The API reference: `invoke docs` writes it without a warning, offline, and every public name of
the framework's packages is in it with a docstring."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
from html.parser import HTMLParser

import pytest

from support import run_cli

from ducttape.reference import PACKAGES


def public_names(module) -> list[str]:
    """What ``module`` offers: its ``__all__``, else the classes and functions defined in it."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == module.__name__]


def documented_modules() -> list:
    """The modules of PACKAGES that have a page in the reference: each one named, and the public
    submodules of a package without ``__all__`` (pdoc's rule), recursively."""
    modules = []

    def add(module) -> None:
        modules.append(module)
        if hasattr(module, "__path__") and not hasattr(module, "__all__"):
            for info in pkgutil.iter_modules(module.__path__, module.__name__ + "."):
                if not info.name.rsplit(".", 1)[-1].startswith("_"):
                    add(importlib.import_module(info.name))

    for name in PACKAGES:
        add(importlib.import_module(name))
    return modules


def expected_entries() -> list[tuple[str, str, object]]:
    """(module name, qualified name on its page, object) of every public class, function and
    method: what a scenario author may call."""
    entries = []
    for module in documented_modules():
        for name in public_names(module):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                entries.append((module.__name__, name, obj))
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if inspect.isfunction(member) or isinstance(member, property):
                        entries.append((module.__name__, f"{name}.{attr}", getattr(obj, attr)))
            elif inspect.isfunction(obj):
                entries.append((module.__name__, name, obj))
    return entries


class Sections(HTMLParser):
    """Which elements with an id hold a docstring (pdoc puts each member in an element whose id
    is its qualified name, its docstring in a ``div.docstring`` inside)."""

    def __init__(self):
        super().__init__()
        self.stack: list[str | None] = []
        self.with_docstring: set[str] = set()
        self.ids: set[str] = set()

    VOID = {"input", "br", "img", "meta", "link", "hr", "wbr"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "docstring" in (attrs.get("class") or "").split():
            self.with_docstring.update(i for i in self.stack if i)
        if tag in self.VOID:
            return
        self.stack.append(attrs.get("id"))
        if attrs.get("id"):
            self.ids.add(attrs["id"])

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    proc = run_cli("docs", "--output", str(out), timeout=300)
    return out, proc


def test_invoke_docs_writes_the_reference_without_a_warning(reference):
    out, proc = reference
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warn" not in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr
    assert os.path.isfile(out / "index.html")
    for page in out.rglob("*.html"):  # offline: nothing loaded from elsewhere when opened
        text = page.read_text()
        assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']https?:""", text), page


def test_every_public_name_is_in_the_reference_with_a_docstring(reference):
    out, _ = reference
    entries = expected_entries()
    assert len(entries) > 150, "the walk over the packages found too little to be right"
    undocumented = [f"{module}.{name}" for module, name, obj in entries if not inspect.getdoc(obj)]
    assert not undocumented, "public names without a docstring: " + ", ".join(undocumented)
    pages: dict[str, Sections] = {}
    missing, bare = [], []
    for module, name, _ in entries:
        if module not in pages:
            pages[module] = Sections()
            pages[module].feed((out / (module.replace(".", "/") + ".html")).read_text())
        page = pages[module]
        if name not in page.ids:
            missing.append(f"{module}.{name}")
        elif name not in page.with_docstring:
            bare.append(f"{module}.{name}")
    assert not missing, "not in the reference: " + ", ".join(missing)
    assert not bare, "in the reference without its docstring: " + ", ".join(bare)


def test_a_failing_render_fails_invoke_docs(tmp_path):
    """The warning check is real: pdoc's warning about a module it cannot import is reported
    (and `invoke docs` exits 1 on any reported warning)."""
    from ducttape import reference as ref
    saved = ref.PACKAGES
    ref.PACKAGES = saved + ("ducttape.no_such_module",)
    try:
        problems = ref.build_reference(tmp_path / "out")
    finally:
        ref.PACKAGES = saved
    assert problems and "no_such_module" in " ".join(problems), problems
