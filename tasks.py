"""ducttape's front door: ``invoke --list`` shows the tasks."""

from invoke import Collection

from ducttape.build import tasks as build_tasks
from ducttape.faults import tasks as faults_tasks
from ducttape import reference
from ducttape.runner import tasks as runner_tasks
from ducttape.vagrant import tasks as cluster_tasks

ns = Collection()
ns.add_task(build_tasks.build)
ns.add_task(runner_tasks.test)
ns.add_task(runner_tasks.compare)
ns.add_task(runner_tasks.history)
ns.add_task(reference.docs)
ns.add_collection(cluster_tasks.ns)
ns.add_collection(faults_tasks.ns)
