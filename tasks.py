"""ducttape's front door: ``invoke --list`` shows the tasks."""

from invoke import Collection

from ducttape.runner import tasks as runner_tasks

ns = Collection()
ns.add_task(runner_tasks.test)
ns.add_task(runner_tasks.compare)
