"""Bad input to `invoke cluster.up`: one clear line, no traceback, non-zero exit, nothing created."""

import json
import os
import random
import subprocess

import pytest

pytestmark = [pytest.mark.vagrant, pytest.mark.slow]


def one_line_error(result, *words):
    """Assert the run failed with exactly one line of output, containing ``words``."""
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode != 0, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], lines
    return lines[0]


def test_no_vagrant_on_path(vagrant_copy, tmp_path):
    vagrant_copy.write_local()
    empty = tmp_path / "bin"
    empty.mkdir()
    # sys.executable is an absolute path, so python needs nothing from PATH.
    env = {**os.environ, "PATH": str(empty)}
    one_line_error(vagrant_copy.invoke("cluster.up", env=env), "`vagrant` is not on PATH")


def test_no_docker_engine(vagrant_copy, tmp_path):
    vagrant_copy.write_local()
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-dockerd.sock"}
    one_line_error(vagrant_copy.invoke("cluster.up", env=env), "no Docker engine", "no-dockerd.sock")


def test_no_vagrantfile_local(vagrant_copy):
    one_line_error(vagrant_copy.invoke("cluster.up"), "no Vagrantfile.local",
                   "copy Vagrantfile.local.example")


def test_too_few_workers(vagrant_copy):
    vagrant_copy.write_local(num_workers=0)
    one_line_error(vagrant_copy.invoke("cluster.up"), "num_workers = 0", "num_workers = 3")
    assert vagrant_copy.containers() == []


def test_stale_container_in_the_way(vagrant_copy):
    vagrant_copy.write_local(num_workers=2)
    empty_image = f"{vagrant_copy.image}-empty"
    stale = f"{vagrant_copy.cluster_name}-worker2"
    empty_tar = subprocess.run(["tar", "-c", "-T", "/dev/null"], capture_output=True, timeout=30,
                               check=True).stdout
    subprocess.run(["docker", "import", "-", empty_image], input=empty_tar, capture_output=True,
                   timeout=60, check=True)
    try:
        docker("create", "--name", stale, empty_image, "/none")
        line = one_line_error(vagrant_copy.invoke("cluster.up"), stale, f"docker rm -f {stale}")
        assert "worker2" in line
        assert vagrant_copy.containers() == [stale]  # nothing else was created
    finally:
        docker("rm", "--force", stale, check=False)
        docker("image", "rm", "--force", empty_image, check=False)


def test_network_of_that_name_in_the_way(vagrant_copy):
    """A docker network with the name of the cluster's but another subnet (Vagrant would try
    to connect the workers to it at addresses outside it)."""
    vagrant_copy.write_local(num_workers=2)
    name = vagrant_copy.network
    for other in random.sample([n for n in range(1, 255) if f"198.19.{n}" != vagrant_copy.subnet], 5):
        if docker("network", "create", "--subnet", f"198.19.{other}.0/24", name, check=False).returncode == 0:
            break  # else another cluster holds that subnet: try the next
    else:
        pytest.fail("no free 198.19.x subnet for the network in the way")
    try:
        one_line_error(vagrant_copy.invoke("cluster.up"), f"docker network {name} is in the way",
                       f"198.19.{other}.0/24", f"docker network rm {name}")
        assert vagrant_copy.containers() == []
    finally:
        docker("network", "rm", name, check=False)


def test_aws_and_another_provider_contradict(vagrant_copy):
    vagrant_copy.write_local()
    result = vagrant_copy.invoke("cluster.up", "--aws", "--provider", "virtualbox")
    one_line_error(result, "--aws and --provider virtualbox")


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120,
                          check=check)


def test_node_types_are_written_into_the_layout_and_checked(vagrant_copy):
    vagrant_copy.write_local(num_workers=3, node_types={"broker": 2, "client": 1})
    status = vagrant_copy.invoke("cluster.status")
    assert status.returncode == 0, status.stdout + status.stderr
    layout = json.loads((vagrant_copy.root / ".vagrant" / "ducttape-layout.json").read_text())
    assert [w["type"] for w in layout["workers"]] == ["broker", "broker", "client"]
    vagrant_copy.write_local(num_workers=2, node_types={"broker": 5})
    one_line_error(vagrant_copy.invoke("cluster.up"), "node_types", "asks for 5 typed workers but num_workers is 2")
    assert vagrant_copy.containers() == []
