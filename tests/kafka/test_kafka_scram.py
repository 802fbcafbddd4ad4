"""A SCRAM password and a URL token given to `invoke test` reach a real Kafka broker that
requires SASL/SCRAM (a record goes through with the password, none with a wrong one) and
appear nowhere under the results folder (every file, gzipped ones unpacked) or on the console."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from kafka_helpers import SCENARIOS, by_method, invoke_test, leftovers, session_dir
from support import run_cli

PASSWORD = "Scr4m-k4fka-pw-7e1"
TOKEN = "ghp_Sc4amT0kenValue42"
URL = f"https://x-access-token:{TOKEN}@github.com/org/repo.git"

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture(scope="module")
def kafka_built():
    """The Kafka build the other Kafka tests use (a no-op when it is up to date)."""
    proc = run_cli("build", "--only=kafka", timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def every_file(root: str) -> dict[str, bytes]:
    """Every file below ``root`` by path, as bytes; a gzipped file also unpacked (``PATH!``)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as f:
                files[path] = data = f.read()
            if data[:2] == b"\x1f\x8b":
                files[path + "!"] = gzip.decompress(data)
    return files


def test_a_scram_password_and_a_url_token_against_a_real_kafka(kafka_built, tmp_path):
    (tmp_path / "globals.json").write_text(json.dumps({"repo": URL}))
    proc, report = invoke_test(tmp_path, os.path.join(SCENARIOS, "kafka_scram.py"),
                               "--param", f"scram_password={PASSWORD}",
                               "--globals", str(tmp_path / "globals.json"), timeout=600)
    console = proc.stdout + proc.stderr
    assert proc.returncode == 0, console
    result = by_method(report)["ScramTest.test_records_go_through_with_the_password_only"]
    assert len(result["data"]["acked"]) == 5 and result["data"]["consumed"] == sorted(result["data"]["acked"])
    assert any("Authentication failed" in e and "invalid credentials" in e for e in result["data"]["refused"])

    files = every_file(str(tmp_path / "results"))
    assert len(files) > 10
    for value in (PASSWORD, TOKEN):
        assert value not in console, value
        leaks = [path for path, data in files.items() if value.encode() in data or value.encode() in path.encode()]
        assert not leaks, (value, leaks)
    # the broker's config held the password (brokers log in to each other with it): collected, redacted
    configs = [data for path, data in files.items() if path.endswith(os.sep + "server.properties")]
    assert configs and all(b'username="alice" password="***"' in data for data in configs)
    assert result["data"]["login"]["sasl.jaas.config"].endswith('password="***";')
    assert result["data"]["repo"] == "https://github.com/org/repo.git"
    assert report["params"]["scram_password"] == "***"
    assert not leftovers(tmp_path)
    assert os.path.isdir(session_dir(tmp_path))
