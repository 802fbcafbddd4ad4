"""invoke entry point: `invoke --list` shows what ducttape can do."""

from invoke import Collection

from ducttape.build.tasks import build

ns = Collection()
ns.add_task(build)
