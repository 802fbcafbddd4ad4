"""ducttape-bridge, built by `invoke build`, against a real KRaft broker: the Strimzi v2 REST API over HTTP.

Builds ``--only ducttape-bridge --only kafka`` into the default build folder, starts one broker on
127.0.0.1 and the bridge on a 127.0.x.x address, and drives the bridge as a benchmark client would:
keep-alive connections, JSON records in batches, a consumer polling until it has everything.
"""

from __future__ import annotations

import base64
import http.client
import json
import time

import pytest

from build_helpers import Invoke, free_port, kraft_broker, launcher, run_class, start, stop, wait_for
from ducttape.build import manifest

pytestmark = [pytest.mark.slow, pytest.mark.maven, pytest.mark.kafka]

BRIDGE_HOST = "127.0.3.1"
DEAD_BRIDGE_HOST = "127.0.3.2"
JSON_RECORDS = "application/vnd.kafka.json.v2+json"
BINARY_RECORDS = "application/vnd.kafka.binary.v2+json"
V2 = "application/vnd.kafka.v2+json"


class Client:
    """One keep-alive HTTP connection to a bridge; every call has a timeout."""

    def __init__(self, host: str, port: int, timeout: float = 30):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def call(self, method: str, path: str, body=None, content_type: str = V2, accept: str | None = None):
        """(status, parsed JSON body or None, headers)."""
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None), resp.headers

    def close(self):
        self.conn.close()


def start_bridge(d, name: str, host: str, properties: str):
    """Start ducttape-bridge from the build folder; wait for its readiness line and its HTTP answer."""
    port = free_port(host)
    (d / f"{name}.properties").write_text(properties + f"http.host={host}\nhttp.port={port}\n")
    log = d / f"{name}.log"
    proc = start([launcher("ducttape-bridge"), manifest.main_class("ducttape-bridge", "bridge"),
                  f"--config-file={d / f'{name}.properties'}"], log, {"JAVA_OPTS": "-Xmx256m"}, cwd=d)
    try:
        wait_for(f"{name} readiness line", lambda: f"HTTP server started on {host}:{port}" in log.read_text(),
                 60, proc, log)
        client = Client(host, port, timeout=5)
        try:
            assert client.call("GET", "/")[0] == 200
        finally:
            client.close()
    except BaseException:
        stop(proc)
        raise
    return proc, port, log


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    result = Invoke(None)("--only", "ducttape-bridge", "--only", "kafka")
    assert result.returncode == 0, result.stdout + result.stderr
    with kraft_broker(tmp_path_factory.mktemp("kafka")) as b:
        topics = run_class("kafka", "topics", "--bootstrap-server", b["bootstrap"], "--create", "--topic", "bench",
                           "--partitions", "3", "--replication-factor", "1", java_opts=b["tools_opts"])
        assert topics.returncode == 0, topics.stderr
        yield b


@pytest.fixture(scope="module")
def bridge(broker):
    proc, port, log = start_bridge(
        broker["dir"], "bridge", BRIDGE_HOST,
        f"bridge.id=test-bridge\nkafka.bootstrap.servers={broker['bootstrap']}\nkafka.producer.acks=all\n"
        "kafka.producer.linger.ms=2\nkafka.consumer.fetch.max.wait.ms=100\nhttp.timeoutSeconds=300\n",
    )
    yield {"host": BRIDGE_HOST, "port": port, "log": log, "proc": proc, "broker": broker}
    stop(proc)
    assert proc.returncode is not None


@pytest.fixture
def client(bridge):
    c = Client(bridge["host"], bridge["port"])
    yield c
    c.close()


def test_info_health_and_readiness(client, bridge):
    status, body, headers = client.call("GET", "/")
    assert status == 200 and body["bridge_version"] == "0.1.0"
    assert client.call("GET", "/healthy")[0] == 204
    assert client.call("GET", "/ready")[0] == 204
    status, body, _ = client.call("GET", "/no/such/path")
    assert status == 404 and body == {"error_code": 404, "message": "Not Found"}
    text = bridge["log"].read_text()
    assert f"HTTP server started on {bridge['host']}:{bridge['port']}" in text
    assert "bridge.id=test-bridge" in text


def test_produce_then_consume_1000_json_records(client, bridge):
    sent = {}
    offsets_by_partition: dict[int, list[int]] = {0: [], 1: [], 2: []}
    sock = None
    for b in range(10):
        records = []
        for i in range(b * 100, b * 100 + 100):
            key, value = f"key-{i}", {"n": i, "text": "x" * 60, "nested": [i, str(i)]}
            records.append({"key": key, "value": value})
            sent[key] = value
        status, body, headers = client.call("POST", "/topics/bench", {"records": records}, JSON_RECORDS)
        assert status == 200, body
        assert headers["Content-Type"] == V2
        assert len(body["offsets"]) == 100
        for entry in body["offsets"]:
            assert set(entry) == {"partition", "offset"}, entry
            offsets_by_partition[entry["partition"]].append(entry["offset"])
        # The same TCP connection served every request (keep-alive).
        assert client.conn.sock is not None
        sock = sock or client.conn.sock
        assert client.conn.sock is sock
    # Keys spread over all 3 partitions; each partition's offsets are 0..n-1 exactly once.
    assert all(offsets_by_partition.values())
    for offsets in offsets_by_partition.values():
        assert sorted(offsets) == list(range(len(offsets)))
    assert sum(len(o) for o in offsets_by_partition.values()) == 1000

    # A consumer in its own group reads all 1000 back, keys and values intact.
    status, body, _ = client.call("POST", "/consumers/readers", {
        "name": "reader-1", "format": "json", "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "fetch.min.bytes": 1, "consumer.request.timeout.ms": 30000})
    assert status == 200, body
    assert body == {"instance_id": "reader-1",
                    "base_uri": f"http://{bridge['host']}:{bridge['port']}/consumers/readers/instances/reader-1"}
    status, body, _ = client.call("POST", "/consumers/readers", {"name": "reader-1", "format": "json"})
    assert status == 409 and body["error_code"] == 409
    base = "/consumers/readers/instances/reader-1"
    assert client.call("POST", base + "/subscription", {"topics": ["bench"]})[0] == 204
    status, body, _ = client.call("GET", base + "/subscription")
    assert status == 200 and body["topics"] == ["bench"]

    received = {}
    deadline = time.monotonic() + 90
    while len(received) < 1000 and time.monotonic() < deadline:
        status, records, headers = client.call("GET", base + "/records?timeout=1000&max_bytes=10000000",
                                               accept=JSON_RECORDS)
        assert status == 200, records
        assert headers["Content-Type"] == JSON_RECORDS
        for r in records:
            assert r["topic"] == "bench" and r["partition"] in (0, 1, 2) and isinstance(r["offset"], int)
            assert r["key"] not in received, "a record was delivered twice"
            received[r["key"]] = r["value"]
    assert received == sent

    assert client.call("POST", base + "/offsets")[0] == 204
    groups = run_class("kafka", "consumer-groups", "--bootstrap-server", bridge["broker"]["bootstrap"], "--describe",
                       "--group", "readers", java_opts=bridge["broker"]["tools_opts"])
    assert groups.returncode == 0, groups.stderr
    committed = [ln.split() for ln in groups.stdout.splitlines() if ln.startswith("readers ")]
    # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
    assert sorted((int(c[2]), int(c[3]), int(c[5])) for c in committed) == [
        (p, len(offsets_by_partition[p]), 0) for p in range(3)]

    assert client.call("DELETE", base)[0] == 204
    status, body, _ = client.call("DELETE", base)
    assert status == 404 and body == {"error_code": 404, "message": "The specified consumer instance was not found."}


def test_unknown_consumer_is_404_json(client):
    for method, path in [("GET", "/consumers/nogroup/instances/nobody/records"),
                         ("POST", "/consumers/nogroup/instances/nobody/offsets"),
                         ("POST", "/consumers/nogroup/instances/nobody/subscription"),
                         ("DELETE", "/consumers/nogroup/instances/nobody")]:
        body = {"topics": ["bench"]} if path.endswith("subscription") else None
        status, error, headers = client.call(method, path, body, accept=JSON_RECORDS if method == "GET" else None)
        assert status == 404, (method, path)
        assert error == {"error_code": 404, "message": "The specified consumer instance was not found."}
        assert headers["Content-Type"] == V2


def test_binary_records_and_request_errors(client):
    key, value = b"\x00key\xff", b"\x01\x02 raw bytes \xfe"
    status, body, _ = client.call("POST", "/topics/bench", {"records": [
        {"key": base64.b64encode(key).decode(), "value": base64.b64encode(value).decode(), "partition": 2}]},
        BINARY_RECORDS)
    assert status == 200 and body["offsets"][0]["partition"] == 2
    offset = body["offsets"][0]["offset"]

    c = "/consumers/raw/instances/raw-1"
    assert client.call("POST", "/consumers/raw", {"name": "raw-1", "format": "binary"})[0] == 200
    assert client.call("POST", c + "/assignments", {"partitions": [{"topic": "bench", "partition": 2}]})[0] == 204
    assert client.call("POST", c + "/positions", {"offsets": [{"topic": "bench", "partition": 2, "offset": offset}]})[0] == 204
    status, records, _ = client.call("GET", c + "/records?timeout=5000", accept=BINARY_RECORDS)
    assert status == 200 and records, records
    assert base64.b64decode(records[0]["key"]) == key and base64.b64decode(records[0]["value"]) == value
    status, error, _ = client.call("GET", c + "/records", accept=JSON_RECORDS)
    assert status == 406 and error["error_code"] == 406
    assert client.call("DELETE", c)[0] == 204

    # One bad partition fails that record only; a bad body or content type fails the request.
    status, body, _ = client.call("POST", "/topics/bench", {"records": [{"value": 1}, {"value": 2, "partition": 9}]},
                                  JSON_RECORDS)
    assert status == 200 and "offset" in body["offsets"][0]
    assert body["offsets"][1]["error_code"] == 404 and "Invalid partition" in body["offsets"][1]["message"]
    status, error, _ = client.call("POST", "/topics/bench", {"records": "nope"}, JSON_RECORDS)
    assert status == 422 and error["error_code"] == 422
    status, error, _ = client.call("POST", "/topics/bench", {"records": []}, "text/plain")
    assert status == 415
    status, error, _ = client.call("POST", "/consumers/raw", {"name": "x", "format": "avro"})
    assert status == 422 and "format" in error["message"]


def test_bridge_without_kafka_answers_errors_in_time_and_stops_on_sigterm(broker):
    dead_port = free_port()  # nothing listens there
    proc, port, log = start_bridge(
        broker["dir"], "dead-bridge", DEAD_BRIDGE_HOST,
        f"kafka.bootstrap.servers=127.0.0.1:{dead_port}\nkafka.producer.max.block.ms=3000\n")
    client = Client(DEAD_BRIDGE_HOST, port, timeout=30)
    try:
        t0 = time.monotonic()
        status, body, _ = client.call("POST", "/topics/bench", {"records": [{"value": i} for i in range(50)]},
                                      JSON_RECORDS)
        elapsed = time.monotonic() - t0
        # One metadata wait (max.block.ms) for the whole request, not one per record.
        assert elapsed < 15, elapsed
        assert status == 200 and len(body["offsets"]) == 50
        for entry in body["offsets"]:
            assert entry["error_code"] == 404 and "not present in metadata after 3000 ms" in entry["message"]
        assert "50 of 50 records failed" in log.read_text()
    finally:
        client.close()
        proc.terminate()  # SIGTERM to the JVM: a clean stop
        try:
            proc.wait(30)
        finally:
            stop(proc)
    assert proc.returncode == 143  # the JVM's exit status after SIGTERM and its shutdown hooks
    assert "bridge stopped" in log.read_text()
