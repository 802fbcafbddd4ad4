"""invoke entry point: `invoke --list` shows every task."""

from invoke import Collection

from ducttape.vagrant.tasks import ns as cluster

ns = Collection()
ns.add_collection(cluster)
