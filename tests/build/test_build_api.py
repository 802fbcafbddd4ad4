"""The Python side of the build that services use: layout, URLs, manifest look-ups."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import REPO

from ducttape.build import layout, manifest
from ducttape.build.projects import GitProject, https_url, load
from ducttape.errors import ConfigError


def test_launcher_path_is_relative_to_the_node_build_dir():
    assert layout.launcher("kafka", "/opt/ducttape/build") == "/opt/ducttape/build/kafka/bin/run-class"
    assert layout.launcher("kafka") == "kafka/bin/run-class"
    assert layout.node_project_dir("mylib", "/vagrant/build") == "/vagrant/build/mylib"


def test_build_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv(layout.BUILD_DIR_ENV, raising=False)
    assert layout.build_dir() == Path(REPO) / "build"
    monkeypatch.setenv(layout.BUILD_DIR_ENV, str(tmp_path))
    assert layout.build_dir() == tmp_path
    assert layout.manifest_path() == tmp_path / "manifest.json"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("git@github.com:apache/kafka.git", "https://github.com/apache/kafka.git"),
        ("ssh://git@example.org:2222/team/repo.git", "https://example.org/team/repo.git"),
        ("https://example.org/repo.git", "https://example.org/repo.git"),
        ("file:///srv/git/repo", "file:///srv/git/repo"),
    ],
)
def test_http_switch(url, expected):
    assert https_url(url) == expected
    assert GitProject("p", url, "main", "package").url(http=True) == expected
    assert GitProject("p", url, "main", "package").url() == url


def test_default_projects_file_is_valid():
    projects = load()
    assert set(projects) == {"kafka", "zookeeper", "strimzi-kafka-bridge", "kafka-dev"}
    assert projects["kafka"].main_classes["broker"] == "kafka.Kafka"
    assert projects["zookeeper"].main_classes["server"] == "org.apache.zookeeper.server.quorum.QuorumPeerMain"
    bridge = projects["strimzi-kafka-bridge"]
    assert bridge.kind == "git" and bridge.git == "https://github.com/strimzi/strimzi-kafka-bridge.git"
    assert bridge.ref == "0.33.1" and bridge.goal == "package"
    assert bridge.main_classes == {"bridge": "io.strimzi.kafka.bridge.Application"}
    dev = projects["kafka-dev"]  # kafkatest's /opt/kafka-dev: the source tree + released jars
    assert dev.kind == "git" and dev.ref == "4.1.1" and "org.apache.kafka:kafka-tools:4.1.1" in dev.libs
    assert [p.name for p in projects.values() if p.optional] == ["kafka-dev"]


def test_main_class_from_manifest(tmp_path):
    manifest.write({"kafka": {"status": "ok", "main_classes": {"broker": "kafka.Kafka"}}}, tmp_path)
    assert manifest.read(tmp_path)["kafka"]["status"] == "ok"
    assert manifest.main_class("kafka", "broker", tmp_path) == "kafka.Kafka"
    with pytest.raises(ConfigError, match="no main class for 'storage'"):
        manifest.main_class("kafka", "storage", tmp_path)
    with pytest.raises(ConfigError, match="'zookeeper' is not built"):
        manifest.main_class("zookeeper", "server", tmp_path)
