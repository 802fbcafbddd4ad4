"""``docs``: the API reference, rendered by pdoc from the framework's docstrings.

The reference covers the packages a scenario author uses (``PACKAGES``) and is written as plain
HTML files that open offline (``docs/reference/index.html`` of the workspace; git-ignored in
ducttape's checkout). A warning from pdoc fails the task: a reference that pdoc could not render in
full is not written as if it were. The folder is replaced on every run, so only a folder that is
empty or holds an earlier reference (its marker file) is written to.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

from ducttape.errors import ConfigError
from ducttape.cli import user_errors
from ducttape.workspace import find_workspace

PACKAGE = Path(__file__).resolve().parent
OUTPUT = Path("docs") / "reference"
"""Where ``docs`` writes the reference, in the workspace (replaced on every run)."""
MARKER = ".ducttape-reference"

PACKAGES = (
    "ducttape.cluster",
    "ducttape.remote",
    "ducttape.services",
    "ducttape.runner",
    "ducttape.runner.main",
    "ducttape.runner.stability",
    "ducttape.tests.test",
    "ducttape.faults",
    "ducttape.products",
    "ducttape.errors",
)
"""The modules and packages (with their submodules) the reference documents."""


def build_reference(output: Path) -> list[str]:
    """Render ``PACKAGES`` with pdoc into ``output`` (emptied first); return the warnings of pdoc
    and of ducttape's own modules, one line each (empty: the reference is complete). Warnings
    that other libraries give while they are imported are not the reference's."""
    import pdoc
    import pdoc.render

    if output.exists() and any(output.iterdir()) and not (output / MARKER).exists():
        raise ConfigError(
            f"{output} holds files that are not an API reference of ducttape's: "
            "pass --output with an empty or new folder"
        )
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    (output / MARKER).write_text("written by `ducttape docs`, replaced on every run\n")
    pdoc.render.configure(docformat="markdown", search=True, show_source=True, footer_text="ducttape API reference")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*PACKAGES, output_directory=output)
    ours = (str(Path(pdoc.__file__).parent), str(PACKAGE))
    return [
        f"{w.category.__name__}: {str(w.message).splitlines()[0]} "
        f"({os.path.relpath(w.filename, PACKAGE.parent)}:{w.lineno})"
        for w in caught
        if str(Path(w.filename).resolve()).startswith(ours)
    ]


@task(help={"output": f"folder for the HTML files (default {OUTPUT}/ in the workspace, replaced)"})
def docs(c, output=None):
    """Write the API reference (pdoc, offline HTML) into docs/reference/; fail on any warning."""
    with user_errors():
        output = Path(output) if output else find_workspace().root / OUTPUT
        problems = build_reference(output)
    if problems:
        for line in problems:
            print(f"warning: {line}", file=sys.stderr)
        raise Exit(f"error: pdoc warned {len(problems)} time(s); the reference in {output} is incomplete", code=1)
    print(f"API reference: {Path(output) / 'index.html'}")
