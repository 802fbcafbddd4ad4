"""The invoke task `build`."""

from __future__ import annotations

from invoke import task

from ducttape.build import builder, layout
from ducttape.build.projects import load as load_projects
from ducttape.cli import user_errors
from ducttape.stopping import stoppable


@task(
    iterable=["only"],
    auto_shortflags=False,  # -h would read as --help
    help={
        "update": "fetch git projects and check out their pinned ref again "
        "(otherwise no network for existing checkouts)",
        "http": "clone git projects over https instead of ssh",
        "only": "build only this project (and what it depends on); repeatable",
        "projects": "projects file to use instead of the repository's projects.yaml",
    },
)
def build(c, update=False, http=False, only=None, projects=None):
    """Build or resolve the projects of projects.yaml into the build folder (see docs/build.md).
    SIGINT, SIGTERM and SIGHUP stop Maven and git and exit 130, 143, 129."""
    with stoppable(), user_errors():
        builder.run(
            load_projects(projects),
            layout.build_dir(),
            only=only or (),
            update=update,
            http=http,
        )
