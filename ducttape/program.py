"""The command line: the task tree that ``tasks.py`` (``invoke ...``) and the ``ducttape``
command share, and the ``ducttape`` program itself."""

from __future__ import annotations

from ducttape.library_warnings import route_library_warnings

route_library_warnings()  # before the libraries load: their warnings go to the debug log

from invoke import Collection, Program  # noqa: E402 - after the warnings are routed

from ducttape import __version__, reference  # noqa: E402
from ducttape.build import tasks as build_tasks  # noqa: E402
from ducttape.faults import tasks as faults_tasks  # noqa: E402
from ducttape.runner import tasks as runner_tasks  # noqa: E402
from ducttape.vagrant import tasks as cluster_tasks  # noqa: E402

ns = Collection()
ns.add_task(build_tasks.build)
ns.add_task(runner_tasks.test)
ns.add_task(runner_tasks.compare)
ns.add_task(runner_tasks.history)
ns.add_task(reference.docs)
ns.add_collection(cluster_tasks.ns)
ns.add_collection(faults_tasks.ns)

program = Program(namespace=ns, version=__version__, name="ducttape", binary="ducttape")
"""``ducttape TASK ...``: the same tasks as ``invoke TASK ...`` in this repository."""


def main() -> None:
    """Entry point of the ``ducttape`` console command."""
    program.run()
