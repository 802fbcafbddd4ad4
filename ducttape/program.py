"""The command line: the task tree that ``tasks.py`` (``invoke ...``) and the ``ducttape``
command share, and the ``ducttape`` program itself."""

from __future__ import annotations

from ducttape.library_warnings import route_library_warnings

route_library_warnings()  # before the libraries load: their warnings go to the debug log

import os  # noqa: E402 - after the warnings are routed
import sys  # noqa: E402 - after the warnings are routed

from invoke import Argument, Collection, Program  # noqa: E402 - after the warnings are routed

from ducttape import __version__, command_line, reference  # noqa: E402 - after the warnings are routed
from ducttape.build import tasks as build_tasks  # noqa: E402 - after the warnings are routed
from ducttape.faults import tasks as faults_tasks  # noqa: E402 - after the warnings are routed
from ducttape.runner import tasks as runner_tasks  # noqa: E402 - after the warnings are routed
from ducttape.starter import init  # noqa: E402 - after the warnings are routed
from ducttape.vagrant import tasks as cluster_tasks  # noqa: E402 - after the warnings are routed
from ducttape.workspace import WORKSPACE_ENV  # noqa: E402 - after the warnings are routed

ns = Collection()
ns.add_task(build_tasks.build)
ns.add_task(runner_tasks.test)
ns.add_task(runner_tasks.compare)
ns.add_task(runner_tasks.history)
ns.add_task(reference.docs)
ns.add_task(init)
cluster_tasks.ns.add_task(runner_tasks.clean)  # ends what `test --no-teardown` left on the cluster
ns.add_collection(cluster_tasks.ns)
ns.add_collection(faults_tasks.ns)


class DucttapeProgram(Program):
    """invoke's Program with ``--workspace DIR`` and ``init [DIR]``."""

    def core_args(self) -> list[Argument]:
        return super().core_args() + [
            Argument(
                names=("workspace",),
                help="the workspace folder (default: the current folder or the "
                f"nearest parent with projects.yaml; also ${WORKSPACE_ENV})",
            )
        ]

    def run(self, argv: list[str] | str | None = None, exit: bool = True) -> None:  # noqa: A002 - invoke's Program.run signature
        command_line.use("ducttape")  # its messages say `ducttape TASK`, not `invoke TASK`
        argv = list(sys.argv if argv is None else argv.split() if isinstance(argv, str) else argv)
        # `init DIR`: invoke's positional arguments are required, so the optional folder is a flag
        for i, word in enumerate(argv[1:-1], 1):
            if word == "init" and argv[i - 1] != "--workspace" and not argv[i + 1].startswith("-"):
                argv[i + 1 : i + 2] = ["--folder", argv[i + 1]]
                break
        super().run(argv, exit)

    def execute(self) -> None:
        folder = self.args.workspace.value
        if folder:
            os.environ[WORKSPACE_ENV] = os.path.abspath(folder)
        super().execute()


program = DucttapeProgram(namespace=ns, version=__version__, name="ducttape", binary="ducttape")
"""``ducttape TASK ...``: the same tasks as ``invoke TASK ...`` in ducttape's checkout."""


def main() -> None:
    """Entry point of the ``ducttape`` console command."""
    program.run()
