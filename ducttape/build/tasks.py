"""The invoke task `build`."""

from __future__ import annotations

from contextlib import contextmanager

from invoke import task
from invoke.exceptions import Exit

from ducttape.build import builder, layout
from ducttape.build.projects import load as load_projects
from ducttape.errors import DucttapeError


@contextmanager
def user_errors():
    """Turn a DucttapeError into a one-line ``error: ...`` and a non-zero exit, no traceback."""
    # Stand-in for ducttape.cli.user_errors until the lead's version lands.
    try:
        yield
    except DucttapeError as e:
        raise Exit(f"error: {e}", code=e.exit_code) from None


@task(
    iterable=["only"],
    auto_shortflags=False,  # -h would read as --help
    help={
        "update": "fetch git projects and check out their pinned ref again (otherwise no network for existing checkouts)",
        "http": "clone git projects over https instead of ssh",
        "only": "build only this project (and what it depends on); repeatable",
        "projects": "projects file to use instead of the repository's projects.yaml",
    },
)
def build(c, update=False, http=False, only=None, projects=None):
    """Build or resolve the projects of projects.yaml into the build folder (see docs/build.md)."""
    with user_errors():
        builder.run(
            load_projects(projects),
            layout.build_dir(),
            only=only or (),
            update=update,
            http=http,
        )
