"""Wrong use of the API a newcomer meets first: one line that names the right call."""

from __future__ import annotations

import pytest

from ducttape.cluster.localhost import LocalhostCluster
from ducttape.services import Service

from support import run_cli

ACCOUNT_FORM = 'node.account.wait_for_http(port, path="/", timeout=60.0)'
SERVICE_FORM = 'self.wait_for_http(node, port, path="/", timeout=60.0)'


@pytest.fixture(scope="module")
def cluster():
    made = LocalhostCluster(2)
    yield made
    made.close()


def one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text, text
    return text


def test_a_url_given_to_the_accounts_wait_for_http_names_the_call(cluster):
    node = cluster.nodes[0]
    with pytest.raises(TypeError) as exc:
        node.account.wait_for_http(f"http://{node.address}:8765/health", timeout=5)
    text = one_line(exc)
    assert "takes a port number" in text and ACCOUNT_FORM in text, text
    assert 'here wait_for_http(8765, path="/health")' in text, text  # the URL taken apart


def test_a_url_given_as_the_path_names_the_call(cluster):
    with pytest.raises(TypeError) as exc:
        cluster.nodes[0].account.wait_for_http(8765, "http://x:8765/", timeout=5)
    text = one_line(exc)
    assert "starting with '/'" in text and ACCOUNT_FORM in text, text


def test_the_services_wait_for_http_names_its_own_form(cluster):
    service = Service(cluster, 1)
    node = cluster.nodes[0]
    with pytest.raises(TypeError) as exc:
        service.wait_for_http(node, f"http://{node.address}:8765/")
    assert SERVICE_FORM in one_line(exc)
    with pytest.raises(TypeError) as exc:  # the node left out: the port came first
        service.wait_for_http(8765, "/health")
    text = one_line(exc)
    assert "the first argument is the node" in text and SERVICE_FORM in text, text


def test_spawn_without_its_files_names_the_calls(cluster):
    account = cluster.nodes[0].account
    with pytest.raises(TypeError) as exc:
        account.spawn("sleep 500")
    text = one_line(exc)
    assert "node.account.spawn(cmd, pid_file, log_file)" in text, text
    assert "self.spawn(node, cmd)" in text, text


def test_the_right_calls_still_work(cluster, tmp_path):
    """The checks let the documented forms through: a port as a number (or digits) and a path."""
    node = cluster.nodes[1]
    pid_file, log_file = str(tmp_path / "http.pid"), str(tmp_path / "http.log")
    monitor = node.account.monitor_log(log_file)  # before the spawn: its first line counts
    node.account.spawn(f"python3 -u -m http.server 0 --bind {node.address}", pid_file, log_file)
    try:
        line = monitor.wait_until(r"Serving HTTP on \S+ port \d+", timeout=30)
        port = int(line.split(" port ")[1].split()[0])
        assert node.account.wait_for_http(port, "/", timeout=30) == 200
        assert node.account.wait_for_http(str(port), path="/", timeout=30) == 200
    finally:
        node.account.kill_process(pid_file)


def test_a_scenario_passing_a_url_fails_with_that_line(tmp_path):
    scenario = tmp_path / "url_scenario.py"
    scenario.write_text(
        "from ducttape.runner import Test, cluster\n\n\n"
        "class UrlTest(Test):\n"
        "    @cluster(num_nodes=1)\n"
        "    def test_url(self):\n"
        "        node = self.cluster.nodes[0]\n"
        "        node.account.wait_for_http(f'http://{node.address}:8765/', timeout=5)\n")
    proc = run_cli("test", str(scenario), "--results-dir", str(tmp_path / "results"), timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "TypeError: wait_for_http takes a port number, not 'http://" in proc.stdout, proc.stdout
    assert ACCOUNT_FORM in proc.stdout, proc.stdout
