"""`invoke cluster.*`: bring the Vagrant cluster of this repository up, down and up to date.

The docker provider is the default; `--aws` runs the workers on EC2 (vagrant-aws plugin) with
credentials from boto3's credential chain, handed to Vagrant in its environment only.
"""

import contextlib
import time

from invoke import Collection, task
from tabulate import tabulate

from ducttape.build.layout import REPO_ROOT
from ducttape.cli import user_errors
from ducttape.errors import ConfigError, DucttapeError
from ducttape.vagrant import image as node_image
from ducttape.vagrant.cluster_file import cluster_file, write_cluster_file
from ducttape.vagrant.machines import Machines, created_provider

ROOT = REPO_ROOT  # the folder with the Vagrantfile


def _machines(provider=None, parallel=True, profile=None):
    """Machines on ``provider``, by default the one the workers were created on (else docker)."""
    provider = provider or created_provider(ROOT) or "docker"
    env = None
    if provider == "aws":
        from ducttape.aws.credentials import vagrant_aws_env  # only EC2 needs boto3

        env = vagrant_aws_env(profile)
        parallel = False  # vagrant-aws brings instances up one at a time
    machines = Machines(ROOT, provider=provider, env=env, parallel=parallel)
    machines.check_tools()
    return machines


def _show(machines, statuses, nodes):
    by_name = {node["name"]: node for node in nodes}
    workers = {w["name"]: w for w in machines.layout()["workers"]}
    rows = []
    for status in statuses:
        node = by_name.get(status.name)
        planned = workers[status.name]["address"] if status.provider != "aws" else ""
        address = node["address"] if node else planned
        ssh = f"{node['hostname']}:{node['port']}" if node else ""
        rows.append([status.name, status.state, address, ssh])
    print(tabulate(rows, headers=["worker", "state", "address", "ssh"]))


def _refresh(machines, statuses=None):
    statuses = statuses or machines.status()
    nodes = write_cluster_file(machines, statuses)
    _show(machines, statuses, nodes)
    return nodes


@task(help={"aws": "run the workers on EC2 (vagrant-aws); same as --provider aws",
            "provider": "docker (default, or the one the workers exist on), virtualbox or aws",
            "parallel": "bring workers up in parallel (default; --no-parallel: one by one)",
            "profile": "AWS profile for EC2 (default: boto3's credential chain)"})
def up(c, aws=False, provider=None, parallel=True, profile=None):
    """Bring up num_workers workers (Vagrantfile.local), provision them, write the cluster file."""
    with user_errors():
        started = time.monotonic()
        if aws and provider not in (None, "aws"):
            raise ConfigError(f"--aws and --provider {provider} contradict each other: pick one")
        machines = _machines("aws" if aws else provider, parallel, profile)
        statuses = machines.status()
        machines.check_can_come_up(statuses)
        if machines.provider == "docker":
            machines.ensure_image()
        print(f"up: {len(statuses)} workers on {machines.provider}")
        if machines.provider == "aws":
            machines.up(provision=False)
            print("up: provision")
            machines.provision()
        else:
            machines.up()
            if machines.provider == "docker" and any(s.state != "not_created" for s in statuses):
                print("up: rsync build/ (a restarted container keeps its old copy)")
                machines.rsync()
        # `vagrant up` succeeded, so every worker runs; `vagrant ssh-config` would fail otherwise.
        nodes = _refresh(machines, [s._replace(state="running", provider=machines.provider)
                                    for s in statuses])
        print(f"up: {len(nodes)} workers running after {time.monotonic() - started:.1f} s; "
              f"cluster file {cluster_file(ROOT)}")


@task(help={"profile": "AWS profile, for workers on EC2"})
def halt(c, profile=None):
    """Stop the workers (they keep their disks); `invoke cluster.up` starts them again."""
    with user_errors():
        machines = _machines(profile=profile)
        print("halt: stopping the workers")
        machines.halt()
        _refresh(machines)


@task(help={"profile": "AWS profile, for workers on EC2"})
def destroy(c, profile=None):
    """Delete the workers and their network."""
    with user_errors():
        started = time.monotonic()
        machines = _machines(profile=profile)
        print("destroy: deleting the workers")
        machines.destroy()
        _refresh(machines)
        print(f"destroy: done after {time.monotonic() - started:.1f} s")


@task(help={"profile": "AWS profile, for workers on EC2"})
def provision(c, profile=None):
    """Run vagrant/base.sh on the running workers again."""
    with user_errors():
        machines = _machines(profile=profile)
        print("provision: running vagrant/base.sh on the workers")
        machines.provision()


@task(help={"profile": "AWS profile, for workers on EC2"})
def rsync(c, profile=None):
    """Push the repository's build/ folder to every running worker."""
    with user_errors():
        machines = _machines(profile=profile)
        build_dir = machines.layout()["build_dir"]
        print(f"rsync: build/ -> {build_dir} on the running workers")
        machines.rsync()


@task(help={"aws": "list this project's EC2 instances (tag Project=ducttape) instead"})
def status(c, aws=False):
    """Show each worker's state and address; rewrite the cluster file."""
    with user_errors():
        if aws:
            from ducttape.aws.instances import format_instances, list_instances

            print(format_instances(list_instances(region=_ec2_region())))
            return
        _refresh(_machines())


@task(help={"aws": "required: reaping is about EC2 instances",
            "yes": "terminate them (default: only list what would be terminated)"})
def reap(c, aws=False, yes=False):
    """Terminate this project's leftover EC2 instances (tag Project=ducttape)."""
    with user_errors():
        if not aws:
            raise ConfigError("cluster.reap works on EC2 instances only: run "
                              "`invoke cluster.reap --aws` (add --yes to terminate)")
        from ducttape.aws.instances import format_instances, reap as reap_instances

        rows = reap_instances(region=_ec2_region(), yes=yes)
        print(format_instances(rows))
        if rows and not yes:
            print("reap: nothing terminated; run again with --yes to terminate these")


@task
def image(c):
    """Build (or rebuild) the docker node image (debootstrap + docker import, about a minute)."""
    with user_errors():
        machines = _machines("docker")
        machines.status()  # has the Vagrantfile describe itself, including the image name
        name = machines.layout()["image"]
        seconds = node_image.build_image(ROOT, name)
        print(f"image: {name} built in {seconds:.0f} s")


def _ec2_region():
    """ec2_region from the Vagrantfile as last evaluated, else None (boto3's default)."""
    with contextlib.suppress(DucttapeError):
        return Machines(ROOT).layout()["ec2"]["region"]
    return None


ns = Collection("cluster", up, halt, destroy, provision, rsync, status, reap, image)
