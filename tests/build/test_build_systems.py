"""The default projects.yaml's released projects on disk: start each once through its launcher
(the Strimzi bridge, built from git, has tests/build/test_bridge_rest.py).

Builds into the default build folder (``<repo>/build`` or $DUCTTAPE_BUILD_DIR), as `invoke build`
does for a user, so later tests and runs reuse it. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import socket

import pytest

from build_helpers import Invoke, free_port, kraft_broker, run_class, start, stop, wait_for
from ducttape.build import layout, manifest

pytestmark = [pytest.mark.slow, pytest.mark.maven, pytest.mark.kafka]


@pytest.fixture(scope="module")
def built():
    """`invoke build --only kafka --only zookeeper` with the default projects.yaml."""
    result = Invoke(None)("--only", "kafka", "--only", "zookeeper")
    assert result.returncode == 0, result.stdout + result.stderr
    return manifest.read()


@pytest.fixture(scope="module")
def kafka_broker(built, tmp_path_factory):
    """One KRaft broker+controller on 127.0.0.1; yields its bootstrap address."""
    with kraft_broker(tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


def test_kafka_broker_kraft_answers_metadata(kafka_broker):
    tools, bootstrap = kafka_broker["tools_opts"], kafka_broker["bootstrap"]
    quorum = run_class("kafka", "metadata-quorum", "--bootstrap-server", bootstrap, "describe", "--status",
                       java_opts=tools)
    assert quorum.returncode == 0, quorum.stderr
    assert "LeaderId:" in quorum.stdout and '"id": 1' in quorum.stdout

    create = run_class("kafka", "topics", "--bootstrap-server", bootstrap, "--create", "--topic", "ducttape",
                       "--partitions", "2", "--replication-factor", "1", java_opts=tools)
    assert create.returncode == 0, create.stderr
    listed = run_class("kafka", "topics", "--bootstrap-server", bootstrap, "--describe", "--topic", "ducttape",
                       java_opts=tools)
    assert listed.returncode == 0 and "PartitionCount: 2" in listed.stdout, listed.stdout + listed.stderr


def four_letter(port: int, word: str) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(word.encode())
            chunks = []
            while chunk := s.recv(4096):
                chunks.append(chunk)
            return b"".join(chunks).decode()
    except OSError:
        return ""


def test_zookeeper_answers_a_client(built, tmp_path):
    port = free_port()
    (tmp_path / "logback.xml").write_text(
        "<configuration><appender name='OUT' class='ch.qos.logback.core.ConsoleAppender'>"
        "<encoder><pattern>%d %-5level %logger{36} - %msg%n</pattern></encoder></appender>"
        "<root level='INFO'><appender-ref ref='OUT'/></root></configuration>\n"
    )
    (tmp_path / "zoo.cfg").write_text(
        "tickTime=2000\n"
        f"dataDir={tmp_path / 'data'}\n"
        f"clientPort={port}\n"
        "clientPortAddress=127.0.0.1\n"
        "admin.enableServer=false\n"
        "4lw.commands.whitelist=srvr,ruok\n"
    )
    log = tmp_path / "zookeeper.log"
    zk = start(
        [str(layout.build_dir() / layout.launcher("zookeeper")), manifest.main_class("zookeeper", "server"),
         str(tmp_path / "zoo.cfg")],
        log, {"JAVA_OPTS": f"-Xmx256m -Dlogback.configurationFile={tmp_path / 'logback.xml'}"},
    )
    try:
        assert wait_for("ZooKeeper ruok", lambda: four_letter(port, "ruok"), 60, zk, log) == "imok"
        # ruok answers as soon as the port is open; srvr only once the server serves requests.
        srvr = wait_for("ZooKeeper serving", lambda: "Mode:" in (out := four_letter(port, "srvr")) and out, 60, zk, log)
        assert "Zookeeper version: 3.9.5" in srvr and "Mode: standalone" in srvr
        ls = run_class("zookeeper", "client", "-server", f"127.0.0.1:{port}", "ls", "/",
                       java_opts=f"-Dlogback.configurationFile={tmp_path / 'logback.xml'}")
        assert ls.returncode == 0, ls.stdout + ls.stderr
        assert "[zookeeper]" in ls.stdout
    finally:
        stop(zk)
