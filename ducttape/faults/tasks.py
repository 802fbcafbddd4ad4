"""`invoke faults.*`: what the faults need on this machine."""

from invoke import Collection, task

from ducttape.cli import user_errors
from ducttape.faults import proxy


@task
def toxiproxy(c):
    """Build Toxiproxy (the delay fault's proxy where the kernel has no netem) into build/toxiproxy/."""
    with user_errors():
        proxy.install()


ns = Collection("faults")
ns.add_task(toxiproxy)  # type: ignore[arg-type]  # invoke types task() as returning a Callable, not a Task
