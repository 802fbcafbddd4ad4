"""Turning `vagrant ssh-config` output into cluster-file nodes, and finding apt's Debian mirror.

Fast: the ssh-config text is what Vagrant 2.3.4 prints for a docker cluster (and an EC2 one).
"""

import pytest

from ducttape.errors import ClusterError
from ducttape.vagrant.cluster_file import nodes_from_ssh_config
from ducttape.vagrant.image import DEFAULT_MIRROR, debian_mirror

SSH_CONFIG = """\
Host worker1
  HostName 127.0.0.1
  User vagrant
  Port 2201
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile "/repo with space/vagrant/image/id_ed25519"
  IdentitiesOnly yes
  LogLevel FATAL

Host worker2
  HostName 127.0.0.2
  User vagrant
  Port 2202
  IdentityFile /repo/vagrant/image/id_ed25519
"""

LAYOUT = {
    "scratch": "/mnt", "build_dir": "/vagrant/build",
    "workers": [{"name": "worker1", "address": "198.18.0.11"},
                {"name": "worker2", "address": "198.18.0.12"}],
}


def test_every_host_section_with_its_own_hostname_and_port():
    nodes = nodes_from_ssh_config(SSH_CONFIG, LAYOUT, {"worker1": "docker", "worker2": "docker"})
    assert nodes == [
        {"name": "worker1", "hostname": "127.0.0.1", "port": 2201, "user": "vagrant",
         "address": "198.18.0.11", "scratch": "/mnt", "build_dir": "/vagrant/build",
         "key_file": "/repo with space/vagrant/image/id_ed25519"},
        {"name": "worker2", "hostname": "127.0.0.2", "port": 2202, "user": "vagrant",
         "address": "198.18.0.12", "scratch": "/mnt", "build_dir": "/vagrant/build",
         "key_file": "/repo/vagrant/image/id_ed25519"},
    ]


def test_aws_workers_are_reached_at_their_ssh_host():
    text = "Host worker1\n  HostName 203.0.113.7\n  User admin\n  IdentityFile /k.pem\n"
    [node] = nodes_from_ssh_config(text, LAYOUT, {"worker1": "aws"})
    assert (node["hostname"], node["port"], node["user"], node["address"]) == \
        ("203.0.113.7", 22, "admin", "203.0.113.7")


def test_a_worker_missing_from_ssh_config_is_an_error():
    with pytest.raises(ClusterError, match="says nothing about worker3"):
        nodes_from_ssh_config(SSH_CONFIG, LAYOUT, {"worker3": "docker"})


def test_debian_mirror_from_deb822_and_one_line_sources(tmp_path):
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.test/debian/\nSuites: bookworm bookworm-updates\n")
    one_line = tmp_path / "sources.list"
    one_line.write_text("# comment\ndeb [arch=amd64] http://other.test/debian bookworm main\n")
    other = tmp_path / "other.list"
    other.write_text("deb https://packages.test/apt cloud-sdk-bookworm main\n")
    assert debian_mirror([str(other), str(deb822)]) == "http://mirror.test/debian"
    assert debian_mirror([str(one_line), str(deb822)]) == "http://other.test/debian"
    assert debian_mirror([str(other), str(tmp_path / "missing")]) == DEFAULT_MIRROR


def test_a_worker_keeps_its_node_type():
    layout = {**LAYOUT, "workers": [{"name": "worker1", "address": "198.18.0.11", "type": "broker"},
                                    {"name": "worker2", "address": "198.18.0.12", "type": ""}]}
    nodes = nodes_from_ssh_config(SSH_CONFIG, layout, {"worker1": "docker", "worker2": "docker"})
    assert [n.get("type") for n in nodes] == ["broker", None]
