"""This checkout's EC2 cluster, driven by boto3: up, halt, destroy, status, rsync.

`up` checks every setting it can before creating anything (region, key file, key pair, AMI,
instance type, security groups, subnet), then imports the key, creates the security group and
launches one instance per worker, each step recorded in ``.ec2/state.json`` first. When a step
fails, `up` deletes what it created (via `destroy`); after Ctrl-C the state says what
`cluster.destroy --aws` must delete. Everything created is tagged with the project, the cluster id,
the driver's host name and an expiry time that `cluster.reap --aws` honours.
"""

from __future__ import annotations

import base64
import secrets
import signal
import socket
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import botocore.exceptions
import paramiko

from ducttape.aws import ec2 as aws
from ducttape.aws import provision
from ducttape.aws import state as local
from ducttape.aws.instances import format_instances, list_instances, reap
from ducttape.aws.settings import load_settings, settings_file
from ducttape.command_line import command
from ducttape.errors import ClusterError, ConfigError, DucttapeError
from ducttape.parallel import parallel_map
from ducttape.remote.host_keys import KnownHosts, fingerprint
from ducttape.stopping import SIGNALS, Stopped, terminate_children

CHECKIP_URL = "https://checkip.amazonaws.com"  # only when ssh_from is `auto`
WAIT_DELAY = 5


class EC2Cluster:
    """The EC2 cluster of the checkout in ``root``; ``profile`` names an AWS profile (default:
    boto3's credential chain); ``echo`` prints progress lines."""

    def __init__(self, root, profile: str | None = None, echo=print):
        self.root = Path(root)
        self.profile = profile
        self.echo = echo
        self._stop = threading.Event()  # set on Ctrl-C: the SSH waits in other threads give up

    # --- tasks -----------------------------------------------------------------------------

    def up(self, build_dir: Path) -> list[dict]:
        """Launch (or start again) num_workers instances, wait until each is provisioned and
        answers SSH, rsync ``build_dir``, write the cluster file; return its nodes."""
        started = time.monotonic()
        s = load_settings(self.root)
        ec2, region = aws.ec2_client(s.region, profile=self.profile)
        state = local.load_state(self.root)
        if state and state["region"] != region:
            raise ConfigError(
                f"this checkout's cluster {state['cluster_id']} is in {state['region']}"
                f" but {settings_file(self.root)} says {region}: run `{command()} "
                "cluster.destroy --aws` first"
            )
        public_key = _public_key(s)
        plan = self._check(ec2, region, s, public_key)
        if state and not self._instances(ec2, region, state):
            self.echo(
                f"up: the recorded cluster {state['cluster_id']} has no instance left; "
                "deleting its remains and starting a new one"
            )
            self.destroy()
            state = None
        fresh = state is None
        if state is None:
            cluster_id = f"{s.cluster_name}-{secrets.token_hex(4)}"
            state = {
                "cluster_id": cluster_id,
                "region": region,
                "key_pair": None,
                "security_group": None,
                "instances": {},
                "host_keys": {},
                "instance_seconds": 0.0,
            }
            local.save_state(self.root, state)
        kinds = [s.instance_type_of(i) for i in range(1, s.num_workers + 1)]
        self.echo(
            f"up: cluster {state['cluster_id']}, "
            f"{', '.join(f'{kinds.count(k)} x {k}' for k in dict.fromkeys(kinds))} "
            f"in {region} from {plan['image']}"
        )
        previous = {sig: signal.signal(sig, self._interrupted) for sig in SIGNALS}
        try:
            nodes = self._up(ec2, region, s, state, plan, public_key, build_dir)
        except KeyboardInterrupt:
            local.save_state(self.root, state)
            self.echo(f"up: interrupted; `{command()} cluster.destroy --aws` deletes what was created")
            raise
        except DucttapeError:
            if fresh:
                self.echo("up: failed; deleting what it created")
                self.destroy()
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.echo(
            f"up: {len(nodes)} workers running after {time.monotonic() - started:.1f} s, "
            f"expire {state['expires']}; cluster file {local.cluster_file(self.root)}"
        )
        return nodes

    def _interrupted(self, signum, frame):
        """Ctrl-C, SIGTERM or SIGHUP: stop the SSH waits in the worker threads and the rsyncs
        too, then interrupt the main thread."""
        self._stop.set()
        terminate_children()
        raise Stopped(signum)

    def halt(self) -> None:
        """Stop the instances (EBS disks are kept; instance-store /mnt is lost)."""
        state = self._state("halt")
        ec2, region = aws.ec2_client(state["region"], profile=self.profile)
        live = self._instances(ec2, region, state)
        running = [i for i in live if i["State"]["Name"] in ("pending", "running")]
        now = datetime.now(timezone.utc)
        if running:
            self.echo(f"halt: stopping {len(running)} instance(s)")
            with aws.ec2_errors("stop instances", region):
                ec2.stop_instances(InstanceIds=[i["InstanceId"] for i in running])
                self._wait(ec2, "instance_stopped", [i["InstanceId"] for i in running])
            state["instance_seconds"] += sum((now - i["LaunchTime"]).total_seconds() for i in running)
            local.save_state(self.root, state)
        local.write_cluster_file(self.root, [])
        self.echo(f"halt: {len(live)} instance(s) stopped; `{command()} cluster.up --aws` starts them")

    def destroy(self) -> float:
        """Terminate the instances and delete the security group and key pair `up` created;
        print and return the instance-hours the cluster ran."""
        state = local.load_state(self.root)
        if state is None:
            self.echo(f"destroy: no EC2 cluster recorded in {local.state_dir(self.root)}; nothing to do")
            return 0.0
        ec2, region = aws.ec2_client(state["region"], profile=self.profile)
        live = self._instances(ec2, region, state)
        now = datetime.now(timezone.utc)
        seconds = state["instance_seconds"] + sum(
            (now - i["LaunchTime"]).total_seconds()
            for i in live
            if i["State"]["Name"] in ("pending", "running", "stopping")
        )
        ids = [i["InstanceId"] for i in live]
        if ids:
            self.echo(f"destroy: terminating {len(ids)} instance(s): {' '.join(ids)}")
            with aws.ec2_errors("terminate instances", region):
                ec2.terminate_instances(InstanceIds=ids)
                self._wait(ec2, "instance_terminated", ids)
        deleted = aws.delete_cluster_resources(
            ec2, region, state["cluster_id"], group_id=state.get("security_group"), key_name=state.get("key_pair")
        )
        for what in deleted:
            self.echo(f"destroy: deleted {what}")
        local.forget(self.root)
        hours = seconds / 3600
        self.echo(f"destroy: cluster {state['cluster_id']} gone; its instances ran {hours:.2f} instance-hours")
        return hours

    def nodes(self) -> list[dict]:
        """The running workers as cluster-file nodes (asks EC2; rewrites the cluster file)."""
        s = load_settings(self.root)
        state = self._state("status")
        ec2, region = aws.ec2_client(state["region"], profile=self.profile)
        running = [i for i in self._instances(ec2, region, state) if i["State"]["Name"] == "running"]
        nodes = [_node(s, i) for i in running]
        local.write_known_hosts(self.root, state, nodes)  # a start may have given them new addresses
        local.write_cluster_file(self.root, nodes)
        return nodes

    def rsync(self, build_dir: Path) -> None:
        """Push ``build_dir`` to every running worker, all at once."""
        s = load_settings(self.root)
        nodes = self.nodes()
        if not nodes:
            raise ClusterError(f"no running EC2 workers: run `{command()} cluster.up --aws`")
        self.echo(f"rsync: build/ -> {s.build_dir} on {len(nodes)} workers")
        known = self._known_hosts("strict")
        parallel_map(lambda node: provision.rsync_build(node, build_dir, s.build_dir, known), nodes)

    def show_status(self) -> None:
        """Print this project's instances in the region, and this checkout's cluster."""
        state = local.load_state(self.root)
        self.echo(format_instances(list_instances(self._region(state), profile=self.profile)))
        if state:
            nodes = self.nodes()
            self.echo(
                f"status: this checkout's cluster {state['cluster_id']} in {state['region']}: "
                f"{len(nodes)} worker(s) running, expires {state.get('expires', '?')}"
            )

    def reap(self, yes: bool, everything: bool = False) -> list[dict]:
        """Print the expired instances of this workspace's clusters (with ``everything``: every
        expired or orphaned ducttape instance of the account); with ``yes`` terminate them and
        delete their clusters' security groups and key pairs."""
        mine = None if everything else local.clusters(self.root)
        rows = reap(self._region(local.load_state(self.root)), yes=yes, profile=self.profile, clusters=mine)
        self.echo(format_instances(rows))
        if mine is not None:
            self.echo(
                f"reap: only this workspace's clusters ({', '.join(sorted(mine)) or 'none made here'}); "
                "--all reaps every expired or orphaned ducttape instance of the account"
            )
        if rows and not yes:
            self.echo("reap: nothing terminated; run again with --yes to terminate these")
        return rows

    def _region(self, state):
        """The recorded cluster's region, else ec2.yaml's, else None (boto3's default)."""
        if state:
            return state["region"]
        if settings_file(self.root).exists():
            return load_settings(self.root).region
        return None

    # --- up's steps --------------------------------------------------------------------------

    def _check(self, ec2, region, s, public_key) -> dict:
        """Everything `up` can check before it creates anything; returns what it found."""
        plan = {}
        with aws.ec2_errors("check the settings", region):
            plan["image"] = _image(ec2, region, s)
            _check_instance_type(ec2, region, s)
            if s.key_pair:
                _check_key_pair(ec2, s, public_key)
            if s.security_groups:
                try:
                    ec2.describe_security_groups(GroupIds=list(s.security_groups))
                except botocore.exceptions.ClientError as err:
                    _unless_bad_setting(err)
                    raise ConfigError(
                        f"security_groups {list(s.security_groups)} in {settings_file(self.root)}: {_message(err)}"
                    ) from None
            plan["subnet"], plan["vpc"] = _subnet(ec2, region, s, self.root)
        if not s.security_groups:
            plan["ssh_from"] = s.ssh_from if s.ssh_from != "auto" else _own_public_cidr()
        return plan

    def _up(self, ec2, region, s, state, plan, public_key, build_dir):
        cluster_id = state["cluster_id"]
        expires = (datetime.now(timezone.utc) + timedelta(hours=s.expiry_hours)).replace(microsecond=0)
        state["expires"] = expires.isoformat()
        tags = {
            aws.PROJECT_TAG_KEY: aws.PROJECT_TAG_VALUE,
            aws.CLUSTER_TAG_KEY: cluster_id,
            aws.DRIVER_TAG_KEY: socket.gethostname(),
            aws.EXPIRES_TAG_KEY: state["expires"],
        }
        key_name = s.key_pair or self._key_pair(ec2, region, state, public_key, tags)
        groups = list(s.security_groups) or [self._security_group(ec2, region, state, plan, tags)]

        live = {aws.tags_of(i).get("Name"): i for i in self._instances(ec2, region, state)}
        if live:  # up again: renew the expiry on everything the cluster has
            with aws.ec2_errors("renew the expiry tag", region):
                resources = [i["InstanceId"] for i in live.values()]
                resources += [g for g in [state.get("security_group")] if g]
                ec2.create_tags(Resources=resources, Tags=[{"Key": aws.EXPIRES_TAG_KEY, "Value": state["expires"]}])
        stopped = [i["InstanceId"] for i in live.values() if i["State"]["Name"] in ("stopped", "stopping")]
        if stopped:
            self.echo(f"up: starting {len(stopped)} stopped instance(s)")
            with aws.ec2_errors("start instances", region):
                self._wait(ec2, "instance_stopped", stopped)
                ec2.start_instances(InstanceIds=stopped)
        host_keys = state.setdefault("host_keys", {})
        for index in range(1, s.num_workers + 1):
            name = f"{s.cluster_name}-worker{index}"
            if name in live:
                continue
            # Each instance gets a host key of its own, in its own user data (one launch per
            # worker): a worker's key is readable on that worker (the metadata service serves
            # the user data), so a shared key would let any worker pose as every other one.
            private_key, host_keys[f"worker{index}"] = provision.new_host_key(
                local.state_dir(self.root), f"ducttape {cluster_id} worker{index}"
            )
            local.save_state(self.root, state)
            data = provision.user_data(s, private_key)
            self.echo(f"up: launching worker{index} (host key {_fingerprint(host_keys[f'worker{index}'])})")
            with aws.ec2_errors(f"launch worker{index}", region):
                response = ec2.run_instances(
                    ImageId=plan["image"],
                    InstanceType=s.instance_type_of(index),
                    MinCount=1,
                    MaxCount=1,
                    KeyName=key_name,
                    UserData=data,
                    ClientToken=f"{cluster_id}-worker{index}-{int(expires.timestamp())}",
                    NetworkInterfaces=[
                        {
                            "DeviceIndex": 0,
                            "SubnetId": plan["subnet"],
                            "Groups": groups,
                            "DeleteOnTermination": True,
                            "AssociatePublicIpAddress": s.associate_public_ip,
                        }
                    ],
                    MetadataOptions={"HttpTokens": "required"},
                    TagSpecifications=aws.tag_specs(["instance", "volume"], {**tags, "Name": name}),
                )
            state["instances"][f"worker{index}"] = response["Instances"][0]["InstanceId"]
            local.save_state(self.root, state)

        ids = list(state["instances"].values())
        self.echo(f"up: waiting for {len(ids)} instance(s) to run")
        with aws.ec2_errors("wait for the instances", region):
            self._wait(ec2, "instance_running", ids, timeout=s.launch_timeout)
        running = sorted(self._instances(ec2, region, state), key=_worker_index)
        nodes = [_node(s, i) for i in running]
        local.write_known_hosts(self.root, state, nodes)  # before the first contact
        self.echo(f"up: waiting for provisioning and SSH (at most {s.ssh_timeout:.0f} s)")
        known = self._known_hosts("strict")
        parallel_map(lambda node: provision.wait_provisioned(node, s.ssh_timeout, self._stop, known), nodes)
        if stopped:
            parallel_map(lambda node: provision.prepare_scratch(node, known), nodes)
        self.echo(f"up: rsync build/ -> {s.build_dir}")
        parallel_map(lambda node: provision.rsync_build(node, build_dir, s.build_dir, known), nodes)
        local.save_state(self.root, state)
        local.write_cluster_file(self.root, nodes)
        return nodes

    def _key_pair(self, ec2, region, state, public_key, tags):
        """Import the public key of key_file as the cluster's key pair (once); return its name."""
        name = state["cluster_id"]
        if state["key_pair"] == name:
            return name
        state["key_pair"] = name
        local.save_state(self.root, state)
        self.echo(f"up: importing key pair {name}")
        with aws.ec2_errors("import the key pair", region):
            ec2.import_key_pair(
                KeyName=name, PublicKeyMaterial=public_key.encode(), TagSpecifications=aws.tag_specs(["key-pair"], tags)
            )
        return name

    def _security_group(self, ec2, region, state, plan, tags):
        """Create the cluster's security group (once): all traffic within, SSH from ssh_from."""
        if state["security_group"]:
            return state["security_group"]
        name = state["cluster_id"]
        self.echo(f"up: creating security group {name} (ssh from {plan['ssh_from']})")
        with aws.ec2_errors("create the security group", region):
            group = ec2.create_security_group(
                GroupName=name,
                VpcId=plan["vpc"],
                Description=f"ducttape cluster {name}: all traffic within, ssh from the driver",
                TagSpecifications=aws.tag_specs(["security-group"], tags),
            )["GroupId"]
            state["security_group"] = group
            local.save_state(self.root, state)
            ec2.authorize_security_group_ingress(
                GroupId=group,
                IpPermissions=[
                    {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]},
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": plan["ssh_from"], "Description": "ducttape driver"}],
                    },
                ],
            )
        return group

    # --- helpers -----------------------------------------------------------------------------

    def _known_hosts(self, policy: str) -> KnownHosts:
        """The cluster's known_hosts file (``.ec2/known_hosts``) under ``policy``."""
        return KnownHosts(str(local.known_hosts_file(self.root)), policy)

    def _state(self, task):
        state = local.load_state(self.root)
        if state is None:
            raise ConfigError(
                f"cluster.{task} --aws: no EC2 cluster recorded in "
                f"{local.state_dir(self.root)}: run `{command()} cluster.up --aws` first"
            )
        return state

    def _instances(self, ec2, region, state) -> list[dict]:
        """The cluster's non-terminated instances: tagged with its id, or recorded in the state."""
        filters = [{"Name": "instance-state-name", "Values": aws.LIVE_STATES}]
        found = {}
        with aws.ec2_errors("list the cluster's instances", region):
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=filters + [{"Name": f"tag:{aws.CLUSTER_TAG_KEY}", "Values": [state["cluster_id"]]}]
            )
            for page in pages:
                for reservation in page["Reservations"]:
                    found.update({i["InstanceId"]: i for i in reservation["Instances"]})
            recorded = [i for i in state["instances"].values() if i not in found]
            if recorded:
                pages = ec2.get_paginator("describe_instances").paginate(
                    Filters=filters + [{"Name": "instance-id", "Values": recorded}]
                )
                for page in pages:
                    for reservation in page["Reservations"]:
                        found.update({i["InstanceId"]: i for i in reservation["Instances"]})
        return list(found.values())

    def _wait(self, ec2, waiter, ids, timeout=600):
        """A boto3 waiter on ``ids``, polling every WAIT_DELAY s for at most ``timeout`` s."""
        try:
            ec2.get_waiter(waiter).wait(
                InstanceIds=ids, WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": max(1, int(timeout // WAIT_DELAY))}
            )
        except botocore.exceptions.WaiterError as err:
            reason = " ".join(str(err.last_response.get("Error", {}).get("Message", err)).split())
            raise ClusterError(
                f"{waiter.replace('_', ' ')}: {', '.join(ids)} did not get there within {timeout:.0f} s ({reason})"
            ) from None


def _public_key(s) -> str:
    """``TYPE BASE64`` of key_file's public key; ConfigError when the file is missing or bad."""
    path = s.key_path
    if not path.is_file():
        raise ConfigError(
            f"key_file {path} does not exist: point key_file in ec2.yaml at your "
            "private ssh key (e.g. ~/.ssh/id_ed25519, made by ssh-keygen)"
        )
    try:
        key = paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        raise ConfigError(f"key_file {path} is encrypted: use a key without a passphrase") from None
    except (paramiko.SSHException, OSError, ValueError) as err:
        raise ConfigError(f"key_file {path} is not a private ssh key ({err})") from None
    return f"{key.get_name()} {key.get_base64()}"


def _fingerprint(public_key: str) -> str:
    """``TYPE SHA256:...`` of a ``TYPE BASE64`` public key."""
    kind, data = public_key.split()[:2]
    return f"{kind} {fingerprint(paramiko.PKey.from_type_string(kind, base64.b64decode(data)))}"


def _image(ec2, region, s) -> str:
    if s.ami:
        try:
            images = ec2.describe_images(ImageIds=[s.ami])["Images"]
        except botocore.exceptions.ClientError as err:
            _unless_bad_setting(err)
            raise ConfigError(f"ami {s.ami} in ec2.yaml: {_message(err)}") from None
        if not images:
            raise ConfigError(f"ami {s.ami} in ec2.yaml does not exist in {region}")
        return s.ami
    images = ec2.describe_images(
        Owners=[s.ami_owner],
        Filters=[{"Name": "name", "Values": [s.ami_name]}, {"Name": "state", "Values": ["available"]}],
    )["Images"]
    if not images:
        raise ConfigError(
            f"no AMI named {s.ami_name!r} owned by {s.ami_owner} in {region}: set "
            "ami (an image id) or ami_name / ami_owner in ec2.yaml"
        )
    return max(images, key=lambda image: image.get("CreationDate", ""))["ImageId"]


def _check_instance_type(ec2, region, s):
    for kind in dict.fromkeys(s.instance_type_of(i) for i in range(1, s.num_workers + 1)):
        try:
            ec2.describe_instance_types(InstanceTypes=[kind])
        except botocore.exceptions.ClientError as err:
            _unless_bad_setting(err)
            raise ConfigError(f"instance_type {kind!r} in ec2.yaml: {_message(err)}") from None


def _check_key_pair(ec2, s, public_key):
    try:
        pair = ec2.describe_key_pairs(KeyNames=[s.key_pair], IncludePublicKey=True)["KeyPairs"][0]
    except botocore.exceptions.ClientError as err:
        _unless_bad_setting(err)
        raise ConfigError(f"key_pair {s.key_pair!r} in ec2.yaml: {_message(err)}") from None
    theirs = " ".join(pair.get("PublicKey", "").split()[:2])
    if theirs != public_key:
        raise ConfigError(
            f"key_file {s.key_path} does not match key pair {s.key_pair!r}: point "
            "key_file at that key pair's private key, or drop key_pair to import it"
        )


def _subnet(ec2, region, s, root):
    """(subnet id, its VPC): the configured subnet, else a default subnet of the default VPC."""
    if s.subnet_id:
        try:
            subnet = ec2.describe_subnets(SubnetIds=[s.subnet_id])["Subnets"][0]
        except botocore.exceptions.ClientError as err:
            _unless_bad_setting(err)
            raise ConfigError(f"subnet_id in {settings_file(root)}: {_message(err)}") from None
        return subnet["SubnetId"], subnet["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    if not subnets:
        raise ConfigError(f"{region} has no default VPC: set subnet_id in {settings_file(root)}")
    subnet = min(subnets, key=lambda sub: sub["AvailabilityZone"])
    return subnet["SubnetId"], subnet["VpcId"]


def _own_public_cidr() -> str:
    try:
        with urllib.request.urlopen(CHECKIP_URL, timeout=5) as answer:
            address = answer.read().decode().strip()
        socket.inet_aton(address)
    except (OSError, ValueError):
        raise ConfigError(
            f"cannot learn this machine's public address from {CHECKIP_URL}: set "
            "ssh_from in ec2.yaml to the CIDR ssh comes from"
        ) from None
    return f"{address}/32"


def _unless_bad_setting(err):
    """Re-raise a ClientError that is not about the value asked for (a denied call, throttling)."""
    code = err.response.get("Error", {}).get("Code", "")
    if not code.startswith(("Invalid", "Malformed", "Unsupported")):
        raise err


def _message(err) -> str:
    error = err.response.get("Error", {})
    return " ".join(f"{error.get('Code', '')}: {error.get('Message', '')}".split())


def _worker_index(instance) -> int:
    name = aws.tags_of(instance).get("Name", "")
    digits = name.rpartition("worker")[2]
    return int(digits) if digits.isdigit() else 0


def _node(s, instance) -> dict:
    """A cluster-file node: services bind to the private address, ssh goes by ``ssh_route``."""
    index = _worker_index(instance)
    name = f"worker{index}"
    private_ip = instance.get("PrivateIpAddress", "")
    public_dns = instance.get("PublicDnsName", "")
    public_ip = instance.get("PublicIpAddress", "")
    port = 22
    if s.ssh_route == "public":
        host = public_dns or public_ip
        if not host:
            raise ClusterError(
                f"{name} ({instance['InstanceId']}) has no public address: set "
                "associate_public_ip: true, or ssh_route: private in ec2.yaml"
            )
    elif s.ssh_route == "private":
        host = private_ip
    else:
        route = s.ssh_route.format(
            name=name, index=index, private_ip=private_ip, public_ip=public_ip, public_dns=public_dns
        )
        host, sep, port_text = route.rpartition(":")
        if sep and port_text.isdigit():
            port = int(port_text)
        else:
            host = route
    node = {
        "name": name,
        "hostname": host,
        "port": port,
        "user": s.user,
        "key_file": str(s.key_path),
        "address": private_ip,
        "scratch": s.scratch,
        "build_dir": s.build_dir,
    }
    if s.worker_type(index):
        node["type"] = s.worker_type(index)
    return node
