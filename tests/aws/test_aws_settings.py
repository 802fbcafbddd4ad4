"""ec2.yaml: defaults, and one clear line for each kind of bad input."""

import os
import subprocess
from types import SimpleNamespace

import pytest

from ducttape.aws import provision
from ducttape.aws.settings import DEBIAN_OWNER, load_settings
from ducttape.errors import ConfigError

pytestmark = pytest.mark.aws


def load(tmp_path, text):
    (tmp_path / "ec2.yaml").write_text(text)
    return load_settings(tmp_path)


def test_defaults(tmp_path):
    s = load(tmp_path, "num_workers: 3\n")
    assert (s.num_workers, s.instance_type, s.ami_owner, s.ami_name, s.user) == (
        3, "m5.large", DEBIAN_OWNER, "debian-12-amd64-*", "admin")
    assert (s.expiry_hours, s.scratch, s.build_dir, s.ssh_route) == (
        8.0, "/mnt", "/opt/ducttape/build", "public")
    assert s.security_groups == () and s.key_pair is None and s.region is None


def test_every_key_can_be_set(tmp_path):
    s = load(tmp_path, "num_workers: 2\nsecurity_groups: [sg-1, sg-2]\nexpiry_hours: 1\n"
                       "associate_public_ip: false\nssh_route: 'localhost:220{index}'\n")
    assert s.security_groups == ("sg-1", "sg-2") and s.expiry_hours == 1.0
    assert s.associate_public_ip is False and s.ssh_route == "localhost:220{index}"


def test_node_types_give_the_first_workers_their_types_and_instance_types(tmp_path):
    s = load(tmp_path, "num_workers: 4\ninstance_type: t3.small\n"
                       "node_types: {broker: {count: 2, instance_type: r5.xlarge}, client: {count: 1}}\n")
    assert [s.worker_type(i) for i in range(1, 5)] == ["broker", "broker", "client", ""]
    assert [s.instance_type_of(i) for i in range(1, 5)] == ["r5.xlarge", "r5.xlarge", "t3.small", "t3.small"]


@pytest.mark.parametrize("text, expected", [
    ("num_workers: 2\nnode_types: {broker: {count: 3}}\n", "node_types asks for 3 typed workers but num_workers is 2"),
    ("num_workers: 2\nnode_types: [broker]\n", "node_types must map node types to"),
    ("num_workers: 2\nnode_types: {'bro ker': {count: 1}}\n", '"node type" \'bro ker\' is not a name'),
    ("num_workers: 2\nnode_types: {broker: {count: 0}}\n", '"count" 0 is not a whole number from 1'),
    ("num_workers: 2\nnode_types: {broker: {count: 1, size: big}}\n", "node_types: broker must map"),
    (None, "no {path}: copy ec2.yaml.example"),
    ("num_workers: [3\n", "is not valid YAML"),
    ("- 3\n", "expected `key: value` lines"),
    ("region: us-east-1\n", "num_workers is not set"),
    ("num_workers: 0\n", "num_workers is 0: a cluster needs at least 1 worker"),
    ("num_workers: three\n", "num_workers must be a whole number, not 'three'"),
    ("num_workers: 3\nexpiry_hours: -1\n", "expiry_hours must be a finite number above 0"),
    ("num_workers: 3\nassociate_public_ip: maybe\n", "associate_public_ip must be true or false"),
    ("num_workers: 3\nsecurity_groups: sg-1\n", "security_groups must be a list of names"),
    ("num_workers: 3\nuser: null\n", "user must be a non-empty string"),
    ("num_workers: 3\nssh_from: everyone\n", "ssh_from 'everyone' is not a CIDR"),
    ("num_workers: 3\nscratch: mnt\n", '"scratch" \'mnt\' is not an absolute, normalized path'),
    ("num_workers: 3\nbuild_dir: /\n", '"build_dir" \'/\' is / , a home folder or a system folder'),
    ("num_workers: 3\nbuild_dir: /home/admin\n", '"build_dir" \'/home/admin\' is / , a home folder'),
    ("num_workers: 3\nscratch: \"/mnt'; touch /x; '\"\n", "is not an absolute, normalized path"),
    ("num_workers: 3\nuser: \"admin'\"\n", '"user" "admin\'" is not a name'),
    ("num_workers: 3\ncluster_name: ../x\n", '"cluster_name" \'../x\' is not a name'),
    ("num_workers: 3\nexpiry_hours: .nan\n", "expiry_hours must be a finite number above 0"),
    ("num_workers: 3\nssh_timeout: .inf\n", "ssh_timeout must be a finite number above 0"),
    ("num_workers: 3\nssh_from: 0.0.0.0/0\n", "ssh_from 0.0.0.0/0 lets 4,294,967,296 addresses"),
    ("num_workers: 3\nssh_from: 10.0.0.0/8\n", "or add `ssh_from_anywhere: true`"),
    ("num_workers: 3\nregoin: us-east-1\n", "unknown setting 'regoin'"),
])
def test_bad_input_is_one_line(tmp_path, text, expected):
    path = tmp_path / "ec2.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert expected.format(path=path) in message, message


def test_ssh_from_anywhere_allows_a_wide_cidr(tmp_path):
    (tmp_path / "ec2.yaml").write_text("num_workers: 1\nssh_from: 0.0.0.0/0\nssh_from_anywhere: true\n")
    assert load_settings(tmp_path).ssh_from == "0.0.0.0/0"
    (tmp_path / "ec2.yaml").write_text("num_workers: 1\nssh_from: 203.0.0.0/16\n")
    assert load_settings(tmp_path).ssh_from == "203.0.0.0/16"  # a /16 is the widest taken as it is


def test_user_data_runs_no_value_as_a_command(tmp_path):
    """Even settings that got past the checks cannot run a command as root: the user data's
    values are read from a file a quoted here-document wrote, and the per-boot scratch script
    reads them from there too (run here with bash and sh, the settings folder moved to tmp).
    The host key goes into a root-only file through a quoted here-document as well."""
    pwned = tmp_path / "pwned"
    scratch = f"{tmp_path}/s'$(touch {pwned})'`touch {pwned}`\nDUCTTAPE_SETTINGS_END\ntouch {pwned}"
    hostile = SimpleNamespace(user="root", scratch=scratch.replace("\n", " "), build_dir="/opt/x';touch /y;'")
    private, public = provision.new_host_key(tmp_path / "state", "ducttape test worker1")
    assert list((tmp_path / "state").iterdir()) == []  # the private key is left nowhere on disk
    assert public.startswith("ssh-ed25519 ") and len(public.split()) == 2
    with pytest.raises(ValueError):
        provision.user_data(SimpleNamespace(user="root", scratch=scratch, build_dir="/opt/b"), private)
    with pytest.raises(ValueError):  # only a key ssh-keygen made goes into the here-document
        provision.user_data(hostile, private.replace("\n", f"\n{provision.HOST_KEY_END}\ntouch {pwned}\n", 1))
    text = provision.user_data(hostile, private)
    assert len(text.encode()) < provision.USER_DATA_LIMIT
    script = provision.SCRIPT.read_text()
    assert text.endswith(script)
    settings = tmp_path / "etc" / "settings"
    host_key = tmp_path / "etc" / "ssh_host_ed25519_key"
    header = text[:-len(script)].replace(provision.SETTINGS_FILE, str(settings)).replace(
        "/etc/ducttape", str(settings.parent)).replace(provision.HOST_KEY_FILE, str(host_key))
    read = subprocess.run(["bash", "-c", header + 'printf "%s\\n" "$SCRATCH" "$BUILD_DIR"'],
                          capture_output=True, text=True, timeout=30)
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines() == [hostile.scratch, hostile.build_dir]
    assert host_key.read_text() == private and host_key.stat().st_mode & 0o777 == 0o600
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(host_key)], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    assert " ".join(derived.split()[:2]) == public
    per_boot = script.split("<<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0].replace(provision.SETTINGS_FILE, str(settings))
    made = subprocess.run(["sh", "-c", per_boot], capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    assert os.path.isdir(hostile.scratch) and not pwned.exists()


def test_a_typed_worker_is_a_typed_node_in_the_cluster_file(tmp_path):
    from ducttape.aws.cluster import _node
    s = load(tmp_path, "num_workers: 2\nnode_types: {broker: {count: 1}}\n")
    instances = [{"InstanceId": f"i-{n}", "Tags": [{"Key": "Name", "Value": f"ducttape-worker{n}"}],
                  "PrivateIpAddress": f"10.0.0.{n}", "PublicDnsName": f"w{n}.example"} for n in (1, 2)]
    assert [_node(s, i).get("type") for i in instances] == ["broker", None]
