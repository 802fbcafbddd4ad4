"""The cluster's Vagrant machines, driven through python-vagrant.

`Machines` checks what can be checked before calling Vagrant (one clear line per problem), runs
every vagrant command with a time limit, keeps Vagrant's output in ``.vagrant/ducttape-vagrant.log``
and shows its tail when a command fails. The Vagrantfile describes the workers it defines in
``.vagrant/ducttape-layout.json`` (names, addresses, ports, ...) each time Vagrant evaluates it.
"""

import contextlib
import ipaddress
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from ducttape import validate
from ducttape.command_line import command
from ducttape.errors import ClusterError, ConfigError
from ducttape.vagrant import image as node_image
from ducttape.vagrant.proc import run
from ducttape.workspace import Workspace

# python-vagrant warns through logging at import when `vagrant` is missing; we say so ourselves.
logging.getLogger("vagrant").addHandler(logging.NullHandler())
import vagrant  # noqa: E402  (python-vagrant)

LAYOUT_FILE = ".vagrant/ducttape-layout.json"
LOG_FILE = ".vagrant/ducttape-vagrant.log"
LOG_LIMIT = 4 * 1024 * 1024
TIMEOUTS = {"up": 1800, "provision": 1800, "rsync": 900, "halt": 300, "destroy": 600}
DEFAULT_TIMEOUT = 120  # status, ssh-config, plugin list, ...
ALLOWED_NETWORK = ipaddress.ip_network("198.18.0.0/15")  # benchmarking range, not docker's default
PRIVATE_NETWORK_PROVIDERS = ("docker", "virtualbox")
TAIL_LINES = 15
IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]*)?$")
MILESTONES = (
    ("Creating the container", "creating"),
    ("Machine booted and ready", "booted"),
    ("Running provisioner", "provisioning"),
)


class _Vagrant(vagrant.Vagrant):
    """python-vagrant with a time limit on every vagrant command and an `rsync` command.

    python-vagrant builds every command line in `_make_vagrant_command`, so wrapping it there in
    coreutils `timeout` covers the plain, captured and streamed commands alike.
    """

    def _make_vagrant_command(self, args):
        limit = TIMEOUTS.get(args[0], DEFAULT_TIMEOUT)
        command = super()._make_vagrant_command(args)
        return ["timeout", "--foreground", "--kill-after=30", str(limit)] + command

    def rsync(self, vm_name=None):
        """Push the rsync synced folders (build/) to the running machines."""
        self._call_vagrant_command(["rsync", vm_name])


class Machines:
    """The Vagrant machines of the workspace in ``root``, on one provider: those its own
    Vagrantfile defines, or ducttape's (`Workspace.vagrantfile_dir`) when it has none.

    ``env`` adds to the environment of the vagrant commands (e.g. AWS credentials); it is never
    printed or written anywhere.
    """

    def __init__(self, root, provider="docker", env=None, parallel=True, echo=print):
        self.root = Path(root).resolve()
        self.provider = provider
        self.echo = echo
        self.log_path = self.root / LOG_FILE
        if self.log_path.exists() and self.log_path.stat().st_size > LOG_LIMIT:
            self.log_path.unlink()  # start afresh rather than grow forever
        workspace = Workspace(self.root)
        full_env = {
            **os.environ,
            **(env or {}),
            "VAGRANT_CHECKPOINT_DISABLE": "1",
            "VAGRANT_BOX_UPDATE_CHECK_DISABLE": "1",
            # the Vagrantfile may be ducttape's: its state and settings are the workspace's
            "DUCTTAPE_WORKSPACE": str(self.root),
            "VAGRANT_DOTFILE_PATH": str(workspace.vagrant_dir),
        }
        if not parallel:
            full_env["VAGRANT_NO_PARALLEL"] = "1"
        log = vagrant.make_file_cm(str(self.log_path))
        self.vagrant = _Vagrant(root=str(workspace.vagrantfile_dir), env=full_env, out_cm=log, err_cm=log)

    # --- checks before calling Vagrant -------------------------------------------------------

    def check_tools(self):
        """`vagrant` on PATH, a Vagrantfile.local, and for docker an answering Docker engine."""
        if shutil.which("vagrant") is None:
            raise ConfigError(
                "`vagrant` is not on PATH: install it (./install.sh installs Debian's vagrant), then retry"
            )
        if not (self.root / "Vagrantfile.local").exists():
            raise ConfigError(
                f"no Vagrantfile.local in {self.root}: copy Vagrantfile.local.example "
                "to Vagrantfile.local and set num_workers"
            )
        if self.provider == "docker":
            check_docker()

    def layout(self):
        """The workers and settings the Vagrantfile last described (see LAYOUT_FILE)."""
        path = self.root / LAYOUT_FILE
        try:
            layout = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ClusterError(f"cannot read {path} ({err}); run `{command()} cluster.status`") from None
        check_layout(layout, str(self.root / "Vagrantfile.local"))
        return layout

    def check_can_come_up(self, statuses):
        """Raise if `up` is bound to fail: no workers, bad subnet, or containers/ports in the way."""
        layout = self.layout()
        if layout["num_workers"] < 1:
            raise ConfigError(
                f"Vagrantfile.local sets num_workers = {layout['num_workers']}: a cluster needs at "
                f"least 1 worker; set e.g. `num_workers = 3` in {self.root / 'Vagrantfile.local'}"
            )
        if self.provider == "docker":
            network = ipaddress.ip_network(layout["network"], strict=False)
            if not network.subnet_of(ALLOWED_NETWORK):
                raise ConfigError(
                    f"subnet {layout['network']} is outside {ALLOWED_NETWORK}: set "
                    '`subnet` in Vagrantfile.local to e.g. "198.18.0"'
                )
            self._check_no_stale_containers(layout)
            name, subnet = network_name(layout)
            subnets = network_subnets(name)
            if subnets is not None and subnet not in subnets:
                raise ClusterError(
                    f"docker network {name} is in the way: it has subnet(s) "
                    f"{', '.join(subnets) or 'none'}, not {subnet}; remove it with "
                    f"`docker network rm {name}`"
                )
            not_created = {s.name for s in statuses if s.state == "not_created"}
            for worker in layout["workers"]:
                if worker["name"] in not_created:
                    check_port_free(worker["ssh_port"], f"{worker['name']}'s ssh")

    def _check_no_stale_containers(self, layout):
        filters = [arg for w in layout["workers"] for arg in ("--filter", f"name=^/{w['container']}$")]
        found = run(
            ["docker", "ps", "--all", "--no-trunc", "--format", "{{.Names}} {{.ID}}"] + filters,
            timeout=30,
            what="docker ps",
        ).stdout.split()
        containers = dict(zip(found[::2], found[1::2], strict=True))
        for worker in layout["workers"]:
            cid = containers.get(worker["container"])
            id_file = self.root / ".vagrant/machines" / worker["name"] / "docker/id"
            known = id_file.read_text().strip() if id_file.exists() else None
            if cid and cid != known:
                raise ClusterError(
                    f"container {worker['container']} is in the way: it is not this cluster's "
                    f"{worker['name']}; remove it with `docker rm -f {worker['container']}`"
                )

    def ensure_image(self):
        """Make this checkout's node key if missing; build the docker node image if it is
        missing or was made from other inputs (`node_image.recipe_hash`)."""
        node_image.ensure_key(self.root)
        name = self.layout()["image"]
        state = node_image.image_state(self.root, name)
        if state != "current":
            self.echo(f"node image {name} is {state}: building it")
            node_image.build_image(self.root, name, echo=self.echo)

    def ensure_network(self):
        """Create the workers' docker network (under the name Vagrant gives it) if missing.

        Vagrant would create it while it brings up the machines in parallel, and with seven at
        once some machines' `docker network connect --ip` failed ("user specified IP address is
        supported only ... user configured subnets"). Made here, every machine finds it and only
        connects to it; `vagrant destroy` removes it as before."""
        name, subnet = network_name(self.layout())
        if network_subnets(name) is None:
            try:
                run(
                    ["docker", "network", "create", "--subnet", subnet, name],
                    timeout=60,
                    what=f"docker network create {name}",
                )
            except ClusterError as err:
                raise ClusterError(
                    f"{err}; if another docker network holds {subnet}, set another "
                    f"`subnet` in {self.root / 'Vagrantfile.local'}"
                ) from None

    # --- vagrant commands --------------------------------------------------------------------

    def status(self):
        """python-vagrant `Status` (name, state, provider) of each worker the Vagrantfile defines,
        in order; refreshes the layout."""
        with self._command("status"):
            statuses = {status.name: status for status in self.vagrant.status()}
        names = [w["name"] for w in self.layout()["workers"]]
        return [statuses.get(name, vagrant.Status(name, "unknown", None)) for name in names]

    def up(self, provision=None):
        """`vagrant up` all workers, one progress line per worker and step.

        ``provision``: None provisions newly created machines only (Vagrant's default).
        """
        with self._command("up"):
            for line in self.vagrant.up(provider=self.provider, provision=provision, stream_output=True):
                self._log(line)
                self._progress(line)

    def provision(self):
        with self._command("provision"):
            self.vagrant.provision()

    def rsync(self):
        with self._command("rsync"):
            self.vagrant.rsync()

    def halt(self):
        with self._command("halt"):
            self.vagrant.halt()

    def destroy(self):
        with self._command("destroy"):
            self.vagrant.destroy()

    def ssh_config(self, names):
        """The text of `vagrant ssh-config` for the named (running) workers."""
        with self._command("ssh-config"):
            if len(names) == len(self.layout()["workers"]):
                return self.vagrant.ssh_config()  # all of them in one call
            return "\n".join(self.vagrant.ssh_config(vm_name=name) for name in names)

    def _progress(self, line):
        if not line.startswith("==> "):
            return
        worker, _, message = line[4:].partition(": ")
        for text, step in MILESTONES:
            if message.startswith(text):
                self.echo(f"{worker}: {step}")

    @contextlib.contextmanager
    def _command(self, what):
        """Turn a failed vagrant command into a ClusterError, after showing its output's tail."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} vagrant {what}\n")
        start = self.log_path.stat().st_size
        try:
            yield
        except FileNotFoundError as err:
            raise ConfigError(f"cannot run vagrant: {err.strerror}: {err.filename}") from None
        except RuntimeError as err:  # python-vagrant: the executable is not on PATH
            raise ConfigError(f"cannot run vagrant: {err}") from None
        except subprocess.CalledProcessError as err:
            with open(self.log_path, errors="replace") as log:
                log.seek(start)
                tail = [line.rstrip() for line in log if line.strip()][-TAIL_LINES:]
            for line in tail:
                print(f"  | {line}", file=sys.stderr)
            if err.returncode in (124, 137):
                limit = TIMEOUTS.get(what, DEFAULT_TIMEOUT)
                raise ClusterError(
                    f"vagrant {what} timed out after {limit} s; its output is in {self.log_path}"
                ) from None
            raise ClusterError(
                f"vagrant {what} failed (exit {err.returncode}); its output ends above and is all in {self.log_path}"
            ) from None

    def _log(self, text):
        with open(self.log_path, "a") as log:
            log.write(text)


def check_layout(layout, where):
    """Raise ConfigError naming ``where`` (the Vagrantfile.local) and the setting unless every
    value of ``layout`` (the settings as the Vagrantfile evaluated them) is one ducttape takes."""
    if not isinstance(layout, dict):
        raise ConfigError(f"{where}: the Vagrantfile described no settings; run `{command()} cluster.status`")
    validate.whole(where, "num_workers", layout.get("num_workers"), 0)
    validate.name(where, "cluster_name", layout.get("cluster_name"))
    image = layout.get("image")
    if not isinstance(image, str) or not IMAGE_RE.match(image):
        raise validate.problem(where, "node_image", image, "is not a docker image name such as ducttape/node:bookworm")
    try:
        ipaddress.ip_network(layout.get("network"), strict=False)
    except (TypeError, ValueError):
        raise validate.problem(
            where,
            "subnet",
            str(layout.get("network")).removesuffix(".0/24"),
            "is not the first three numbers of an IPv4 address, e.g. 198.18.0",
        ) from None
    for key in ("scratch", "build_dir"):
        validate.node_folder(where, key, layout.get(key))
    types = layout.get("node_types") or {}
    if not isinstance(types, dict):
        raise validate.problem(where, "node_types", types, 'is not a hash of types and counts, e.g. { "broker" => 3 }')
    for node_type, count in types.items():
        validate.name(where, "node type", node_type)
        validate.whole(where, f"node_types[{node_type!r}]", count, 1)
    if sum(types.values()) > layout["num_workers"]:
        raise validate.problem(
            where,
            "node_types",
            types,
            f"asks for {sum(types.values())} typed workers but num_workers is {layout['num_workers']}",
        )
    for worker in layout.get("workers", []):
        validate.name(where, "worker name", worker.get("name"))
        if worker.get("type"):
            validate.name(where, "node type", worker["type"])
        validate.name(where, "container name", worker.get("container"))
        validate.host(where, "worker address", worker.get("address"))
        validate.port(where, "ssh_port_base + N", worker.get("ssh_port"))


def network_name(layout):
    """The name Vagrant gives the workers' docker network, and its subnet."""
    subnet = str(ipaddress.ip_network(layout["network"], strict=False))
    return f"vagrant_network_{subnet}", subnet


def network_subnets(name):
    """The subnets of docker network ``name``, or None if there is no such network."""
    try:
        found = subprocess.run(
            ["docker", "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", name],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        raise ClusterError(f"docker network inspect {name}: no answer within 30 s") from None
    return found.stdout.split() if found.returncode == 0 else None


def created_provider(root):
    """The provider of the workers Vagrant has created in ``root``, or None if there are none."""
    for id_file in sorted((Path(root) / ".vagrant/machines").glob("*/*/id")):
        return id_file.parent.name
    return None


def check_docker():
    """Raise unless a Docker engine answers (at DOCKER_HOST, else the default socket)."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        raise ConfigError("`docker` is not on PATH: run ./install.sh (installs docker.io)") from None
    except subprocess.TimeoutExpired:
        raise ClusterError(f"the Docker engine at {where} does not answer within 30 s") from None
    if result.returncode != 0 or not result.stdout.strip():
        raise ClusterError(
            f"no Docker engine answers at {where}: start it with ./install.sh (or point DOCKER_HOST at a running one)"
        )


def check_port_free(port, purpose):
    """Raise if 127.0.0.1:``port`` is taken."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ClusterError(
                f"port {port} on 127.0.0.1 ({purpose}) is in use: stop what holds "
                "it or set ssh_port_base in Vagrantfile.local"
            ) from None
