"""Clusters: handing out nodes, backends and their bad input."""

from __future__ import annotations

import json

import pytest

from ducttape.cluster import load_cluster
from ducttape.cluster.json_file import JsonCluster
from ducttape.errors import ClusterError, ConfigError


def test_request_and_free():
    cluster = load_cluster("localhost:3")
    try:
        a = cluster.request(2)
        assert [n.name for n in a] == ["node1", "node2"] and cluster.num_available == 1
        with pytest.raises(ClusterError,
                           match=r"asked for 2 nodes but the localhost cluster \(3 nodes\) has 3 \(1 free\)"):
            cluster.request(2)
        cluster.free(a)
        assert cluster.num_available == 3
        with pytest.raises(ValueError):
            cluster.free(a)
        with pytest.raises(ClusterError, match="asked for 4 nodes but the localhost cluster \\(3 nodes\\) has 3$"):
            cluster.request(4)
    finally:
        cluster.close()


def test_localhost_nodes_have_their_own_scratch_and_address():
    cluster = load_cluster("localhost:2")
    try:
        n1, n2 = cluster.nodes
        assert n1.scratch != n2.scratch and n1.address != n2.address
        n1.account.create_file(f"{n1.scratch}/mine", "1")
        assert not n2.account.exists(f"{n2.scratch}/mine")
        view = cluster.view(1)
        assert len(view) == 1 and cluster.num_available == 1
        view.release()
        assert cluster.num_available == 2
    finally:
        root = cluster.scratch_root
        cluster.close()
    assert not n1.account.exists(root)


@pytest.mark.parametrize("spec, message", [
    ("moon", "unknown cluster 'moon': use localhost"),
    ("localhost:0", "N in localhost:N is a number from 1 to 254"),
    ("localhost:x", "N in localhost:N is a number from 1 to 254"),
    ("json", "json needs a file"),
    ("json:/nonexistent/cluster.json", "cluster file /nonexistent/cluster.json does not exist"),
])
def test_bad_cluster_specs(spec, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_cluster(spec)


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    ('{"hosts": []}', 'expected {"nodes": [...]}'),
    ('{"nodes": [{"hostname": "h", "colour": "red"}]}', "node 1: unknown key 'colour'"),
    ('{"nodes": [{"user": "u"}]}', 'node 1: "hostname" is missing'),
    ('{"nodes": [{"hostname": "h", "port": "22"}]}', 'node 1: "port" \'22\' is not a port'),
    # the attacks: a shell command in an address, a path as a node name, a root or home folder
    ('{"nodes": [{"hostname": "h", "address": "10.0.0.2; touch X #"}]}',
     'node 1: "address" \'10.0.0.2; touch X #\' is not an IP address or a DNS name'),
    ('{"nodes": [{"hostname": "h$(id)"}]}', '"hostname" \'h$(id)\' is not an IP address or a DNS name'),
    ('{"nodes": [{"hostname": "h", "name": "../x"}]}', 'node 1: "name" \'../x\' is not a name'),
    ('{"nodes": [{"hostname": "h", "name": "/tmp/x"}]}', '"name" \'/tmp/x\' is not a name'),
    ('{"nodes": [{"hostname": "h", "name": ""}]}', '"name" \'\' is not a name'),
    ('{"nodes": [{"hostname": "h", "user": "u;id"}]}', '"user" \'u;id\' is not a name'),
    ('{"nodes": [{"hostname": "h", "port": true}]}', '"port" True is not a port'),
    ('{"nodes": [{"hostname": "h", "port": 65536}]}', '"port" 65536 is not a port'),
    ('{"nodes": [{"hostname": "h", "build_dir": "/"}]}', '"build_dir" \'/\' is / , a home folder'),
    ('{"nodes": [{"hostname": "h", "build_dir": "/home/ubuntu"}]}',
     '"build_dir" \'/home/ubuntu\' is / , a home folder'),
    ('{"nodes": [{"hostname": "h", "build_dir": "/etc"}]}', 'or a system folder'),
    ('{"nodes": [{"hostname": "h", "scratch": "/root"}]}', '"scratch" \'/root\' is / , a home folder'),
    ('{"nodes": [{"hostname": "h", "scratch": "/mnt/../etc"}]}', 'is not an absolute, normalized path'),
    ('{"nodes": [{"hostname": "h", "scratch": "mnt"}]}', 'is not an absolute, normalized path'),
    ('{"nodes": [{"hostname": "h", "scratch": "/mnt/a b"}]}', 'is not an absolute, normalized path'),
    ('{"keepalive_interval": NaN, "nodes": [{"hostname": "h"}]}',
     '"keepalive_interval" nan is not a number of seconds'),
    ('{"nodes": [{"hostname": "h", "keepalive_interval": Infinity}]}', '"keepalive_interval" inf is not'),
    ('{"nodes": [{"hostname": "a", "name": "x"}, {"hostname": "b", "name": "x"}]}', "node name 'x' is used twice"),
    ('{"nodes": [{"hostname": "h", "key_file": "/no/such/key"}]}', "key file /no/such/key does not exist"),
])
def test_malformed_cluster_file(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        JsonCluster(str(path))
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.ssh
def test_json_cluster_runs_over_ssh(json_cluster_file):
    cluster = load_cluster(f"json:{json_cluster_file}")
    try:
        cluster.check()
        assert [n.name for n in cluster.nodes] == ["host1", "host2", "host3"]
        assert cluster.nodes[1].address == "127.0.2.2"
        assert cluster.nodes[0].account.ssh_output("echo $SSH_CONNECTION").strip()  # really over ssh
    finally:
        cluster.close()


@pytest.mark.ssh
def test_json_cluster_with_an_unreachable_host(tmp_path, sshd):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"nodes": [{"hostname": "127.0.0.1", "port": 1, "user": "root"}]}))
    cluster = load_cluster(f"json:{path}")
    with pytest.raises(ClusterError, match="cannot connect to node node1 at root@127.0.0.1:1"):
        cluster.check()
