"""``invoke docs``: the API reference, rendered by pdoc from the framework's docstrings.

The reference covers the packages a scenario author uses (``PACKAGES``) and is written as plain
HTML files that open offline (``docs/reference/index.html``; git-ignored). A warning from pdoc
fails the task: a reference that pdoc could not render in full is not written as if it were.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "reference"
"""Where ``invoke docs`` writes the reference (replaced on every run)."""

PACKAGES = ("ducttape.cluster", "ducttape.remote", "ducttape.services", "ducttape.runner",
            "ducttape.runner.main", "ducttape.tests.test", "ducttape.faults", "ducttape.products", "ducttape.errors")
"""The modules and packages (with their submodules) the reference documents."""


def build_reference(output: Path = OUTPUT) -> list[str]:
    """Render ``PACKAGES`` with pdoc into ``output`` (emptied first); return the warnings of pdoc
    and of ducttape's own modules, one line each (empty: the reference is complete). Warnings
    that other libraries give while they are imported are not the reference's."""
    import pdoc
    import pdoc.render

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    shutil.rmtree(output, ignore_errors=True)
    pdoc.render.configure(docformat="markdown", search=True, show_source=True,
                          footer_text="ducttape API reference")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*PACKAGES, output_directory=output)
    ours = (str(Path(pdoc.__file__).parent), str(REPO / "ducttape"))
    return [f"{w.category.__name__}: {str(w.message).splitlines()[0]} "
            f"({os.path.relpath(w.filename, REPO)}:{w.lineno})"
            for w in caught if str(Path(w.filename).resolve()).startswith(ours)]


@task(help={"output": f"folder for the HTML files (default {OUTPUT.relative_to(REPO)}/, replaced)"})
def docs(c, output=str(OUTPUT)):
    """Write the API reference (pdoc, offline HTML) into docs/reference/; fail on any warning."""
    problems = build_reference(Path(output))
    if problems:
        for line in problems:
            print(f"warning: {line}", file=sys.stderr)
        raise Exit(f"error: pdoc warned {len(problems)} time(s); the reference in {output} is "
                   "incomplete", code=1)
    print(f"API reference: {Path(output) / 'index.html'}")
