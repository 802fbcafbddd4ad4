"""`cluster.*`: bring the cluster of the workspace up, down and up to date.

Without `--aws` the cluster is Vagrant's (docker provider by default, or virtualbox); with `--aws`
it is EC2 instances driven by boto3 (`ducttape.aws.cluster`), with credentials from boto3's chain.
"""

import time

from invoke import Collection, task
from tabulate import tabulate

from ducttape.build.layout import build_dir as local_build_dir
from ducttape.cli import user_errors
from ducttape.command_line import command
from ducttape.errors import ConfigError
from ducttape.stopping import stoppable
from ducttape.vagrant import image as node_image
from ducttape.vagrant.cluster_file import cluster_file, record_host_keys, write_cluster_file
from ducttape.vagrant.machines import Machines, created_provider
from ducttape.workspace import find_workspace


def _machines(provider=None, parallel=True):
    """Machines on ``provider``, by default the one the workers were created on (else docker)."""
    root = find_workspace().root
    provider = provider or created_provider(root) or "docker"
    if provider == "aws":
        raise ConfigError(
            f"the vagrant-aws provider is gone: run `{command()} cluster.up --aws` (EC2 through boto3, see docs/aws.md)"
        )
    machines = Machines(root, provider=provider, parallel=parallel)
    machines.check_tools()
    return machines


def _ec2(profile=None):
    from ducttape.aws.cluster import EC2Cluster  # only EC2 needs boto3

    return EC2Cluster(find_workspace().root, profile=profile)


def _show(machines, statuses, nodes):
    by_name = {node["name"]: node for node in nodes}
    workers = {w["name"]: w for w in machines.layout()["workers"]}
    rows = []
    for status in statuses:
        node = by_name.get(status.name)
        address = node["address"] if node else workers[status.name]["address"]
        ssh = f"{node['hostname']}:{node['port']}" if node else ""
        rows.append([status.name, status.state, address, ssh])
    print(tabulate(rows, headers=["worker", "state", "address", "ssh"]))


def _refresh(machines, statuses=None):
    statuses = statuses or machines.status()
    nodes = write_cluster_file(machines, statuses)
    _show(machines, statuses, nodes)
    return nodes


AWS_HELP = "the EC2 cluster (ec2.yaml, see docs/aws.md) instead of Vagrant's"
PROFILE_HELP = "AWS profile for --aws (default: boto3's credential chain)"


@task(
    help={
        "aws": "launch (or start again) the EC2 cluster of ec2.yaml, through boto3",
        "provider": "docker (default, or the one the workers exist on) or virtualbox",
        "parallel": "bring workers up in parallel (default; --no-parallel: one by one)",
        "profile": PROFILE_HELP,
    }
)
def up(c, aws=False, provider=None, parallel=True, profile=None):
    """Bring up num_workers workers, provision them, push build/, write the cluster file and
    record the workers' host keys (.vagrant/ducttape-known_hosts).
    SIGINT, SIGTERM and SIGHUP stop vagrant (or the EC2 waits) and exit 130, 143, 129."""
    with stoppable(), user_errors():
        if aws:
            if provider:
                raise ConfigError(f"--aws and --provider {provider} contradict each other: pick one")
            _ec2(profile).up(local_build_dir())
            return
        started = time.monotonic()
        machines = _machines(provider, parallel)
        statuses = machines.status()
        machines.check_can_come_up(statuses)
        if machines.provider == "docker":
            machines.ensure_image()
            machines.ensure_network()
        print(f"up: {len(statuses)} workers on {machines.provider}")
        machines.up()
        if machines.provider == "docker" and any(s.state != "not_created" for s in statuses):
            print("up: rsync build/ (a restarted container keeps its old copy)")
            machines.rsync()
        # `vagrant up` succeeded, so every worker runs; `vagrant ssh-config` would fail otherwise.
        nodes = _refresh(machines, [s._replace(state="running", provider=machines.provider) for s in statuses])
        record_host_keys(machines, nodes)
        print(
            f"up: {len(nodes)} workers running after {time.monotonic() - started:.1f} s; "
            f"cluster file {cluster_file(machines.root)}"
        )


@task(help={"aws": AWS_HELP, "profile": PROFILE_HELP})
def halt(c, aws=False, profile=None):
    """Stop the workers (they keep their disks); `invoke cluster.up` starts them again."""
    with user_errors():
        if aws:
            _ec2(profile).halt()
            return
        machines = _machines()
        print("halt: stopping the workers")
        machines.halt()
        _refresh(machines)


@task(help={"aws": AWS_HELP, "profile": PROFILE_HELP})
def destroy(c, aws=False, profile=None):
    """Delete the workers and their network (on EC2: also the security group and key pair)."""
    with user_errors():
        if aws:
            _ec2(profile).destroy()
            return
        started = time.monotonic()
        machines = _machines()
        print("destroy: deleting the workers")
        machines.destroy()
        _refresh(machines)
        print(f"destroy: done after {time.monotonic() - started:.1f} s")


@task
def provision(c):
    """Run vagrant/base.sh on the running workers again (EC2 workers provision at first boot)."""
    with user_errors():
        machines = _machines()
        print("provision: running vagrant/base.sh on the workers")
        machines.provision()


@task(help={"aws": AWS_HELP, "profile": PROFILE_HELP})
def rsync(c, aws=False, profile=None):
    """Push the workspace's build/ folder to every running worker."""
    with stoppable(), user_errors():
        if aws:
            _ec2(profile).rsync(local_build_dir())
            return
        machines = _machines()
        build_dir = machines.layout()["build_dir"]
        print(f"rsync: build/ -> {build_dir} on the running workers")
        machines.rsync()


@task(
    help={
        "aws": "this project's EC2 instances (tag Project=ducttape) and this workspace's EC2 cluster",
        "profile": PROFILE_HELP,
    }
)
def status(c, aws=False, profile=None):
    """Show each worker's state and address; rewrite the cluster file."""
    with user_errors():
        if aws:
            _ec2(profile).show_status()
            return
        _refresh(_machines())


@task(
    help={
        "aws": "required: reaping is about EC2 instances",
        "yes": "terminate them (default: only list what would be terminated)",
        "all": "every expired or orphaned ducttape instance of the account, not only those of "
        "the clusters this workspace made (other drivers' too)",
        "profile": PROFILE_HELP,
    }
)
def reap(c, aws=False, yes=False, all=False, profile=None):  # noqa: A002 - the flag's name
    """Terminate the expired EC2 instances of this workspace's clusters (--all: every expired or
    orphaned one tagged Project=ducttape)."""
    with user_errors():
        if not aws:
            raise ConfigError(
                "cluster.reap works on EC2 instances only: "
                f"run `{command()} cluster.reap --aws` (add --yes to terminate)"
            )
        _ec2(profile).reap(yes, everything=all)


@task
def image(c):
    """Build (or rebuild) the docker node image (debootstrap + docker import, about a minute)."""
    with user_errors():
        machines = _machines("docker")
        machines.status()  # has the Vagrantfile describe itself, including the image name
        name = machines.layout()["image"]
        seconds = node_image.build_image(machines.root, name)
        print(f"image: {name} built in {seconds:.0f} s")


ns = Collection("cluster", up, halt, destroy, provision, rsync, status, reap, image)
