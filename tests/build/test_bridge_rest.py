"""The Strimzi Kafka Bridge, built from its git source by `invoke build`, against a real KRaft broker.

Builds the default projects.yaml's ``strimzi-kafka-bridge`` and ``kafka`` into the default build
folder, starts one broker on 127.0.0.1 and the bridge on a 127.0.x.x address as RestProxyService
starts it (launcher, ``--config-file``, log4j2 file), and drives its REST API v2 as a benchmark
client would: keep-alive connections, JSON and binary records in batches, consumers that
subscribe, seek, poll and commit, and the error answers Strimzi documents (openapi.json).
"""

from __future__ import annotations

import base64
import http.client
import json
import time

import pytest

from build_helpers import (SERVER_LOG4J2, Invoke, free_port, kraft_broker, launcher, run_class, start,
                           stop, wait_for)
from ducttape.build import manifest

pytestmark = [pytest.mark.slow, pytest.mark.maven, pytest.mark.kafka]

BRIDGE = "strimzi-kafka-bridge"
BRIDGE_HOST = "127.0.3.1"
DEAD_BRIDGE_HOST = "127.0.3.2"
JSON_RECORDS = "application/vnd.kafka.json.v2+json"
BINARY_RECORDS = "application/vnd.kafka.binary.v2+json"
V2 = "application/vnd.kafka.v2+json"
NOT_FOUND = {"error_code": 404, "message": "The specified consumer instance was not found."}


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
    """Start the Strimzi bridge from the build folder; wait until ``GET /ready`` answers 204."""
    port = free_port(host)
    (d / f"{name}.properties").write_text(properties + f"http.host={host}\nhttp.port={port}\n")
    (d / f"{name}-log4j2.properties").write_text(SERVER_LOG4J2)
    log = d / f"{name}.log"
    proc = start([launcher(BRIDGE), manifest.main_class(BRIDGE, "bridge"), f"--config-file={d / f'{name}.properties'}"],
                 log, {"JAVA_OPTS": f"-Xmx256m -Dlog4j2.configurationFile={d / f'{name}-log4j2.properties'} "
                                    f"-Dvertx.cacheDirBase={d / 'vertx-cache'}"}, cwd=d)
    try:
        wait_for(f"{name} GET /ready", lambda: ready(host, port), 90, proc, log)
    except BaseException:
        stop(proc)
        raise
    return proc, port, log


def ready(host: str, port: int) -> bool:
    client = Client(host, port, timeout=2)
    try:
        return client.call("GET", "/ready")[0] == 204
    except OSError:
        return False
    finally:
        client.close()


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    result = Invoke(None)("--only", BRIDGE, "--only", "kafka")
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
        "kafka.producer.max.block.ms=5000\n"
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
    assert status == 200
    assert body == {"bridge_version": manifest.read()[BRIDGE]["version"]} == {"bridge_version": "0.33.1"}
    assert client.call("GET", "/healthy")[0] == 204
    assert client.call("GET", "/ready")[0] == 204
    status, body, headers = client.call("GET", "/no/such/path")
    assert status == 404 and body == {"error_code": 404, "message": "Not Found"}
    assert headers["Content-Type"] == V2
    text = bridge["log"].read_text()
    assert "Strimzi Kafka Bridge 0.33.1 is starting" in text
    assert f"HTTP-Kafka Bridge started and listening on port {bridge['port']}" in text
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
    for p, offsets in offsets_by_partition.items():
        status, body, _ = client.call("GET", f"/topics/bench/partitions/{p}/offsets")
        assert status == 200 and body == {"beginning_offset": 0, "end_offset": len(offsets)}

    # A consumer in its own group reads all 1000 back, keys and values intact: what the REST
    # load generator does (create, subscribe, poll, commit, delete).
    status, body, _ = client.call("POST", "/consumers/readers", {
        "name": "reader-1", "format": "json", "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "fetch.min.bytes": 1, "consumer.request.timeout.ms": 30000})
    assert status == 200, body
    assert body == {"instance_id": "reader-1",
                    "base_uri": f"http://{bridge['host']}:{bridge['port']}/consumers/readers/instances/reader-1"}
    status, body, _ = client.call("POST", "/consumers/readers", {"name": "reader-1", "format": "json"})
    assert status == 409 and body == {
        "error_code": 409, "message": "A consumer instance with the specified name already exists in the Kafka Bridge."}
    base = "/consumers/readers/instances/reader-1"
    assert client.call("POST", base + "/subscription", {"topics": ["bench"]})[0] == 204

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
    # Strimzi lists the subscribed topics' partitions once a poll has assigned them.
    status, body, _ = client.call("GET", base + "/subscription")
    assert status == 200 and body["topics"] == ["bench"]
    assert sorted(body["partitions"][0]["bench"]) == [0, 1, 2]

    assert client.call("POST", base + "/offsets")[0] == 204
    groups = run_class("kafka", "consumer-groups", "--bootstrap-server", bridge["broker"]["bootstrap"], "--describe",
                       "--group", "readers", java_opts=bridge["broker"]["tools_opts"])
    assert groups.returncode == 0, groups.stderr
    committed = [ln.split() for ln in groups.stdout.splitlines() if ln.startswith("readers ")]
    # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
    assert sorted((int(c[2]), int(c[3]), int(c[5])) for c in committed) == [
        (p, len(offsets_by_partition[p]), 0) for p in range(3)]

    # Seek back to the beginning of partition 0: its records come again, in order.
    partition_0 = {"partitions": [{"topic": "bench", "partition": 0}]}
    assert client.call("POST", base + "/positions/beginning", partition_0)[0] == 204
    again = poll_until(client, base, JSON_RECORDS, len(offsets_by_partition[0]))
    assert [(r["partition"], r["offset"]) for r in again] == [(0, o) for o in range(len(offsets_by_partition[0]))]
    # To the end: nothing more to read.
    assert client.call("POST", base + "/positions/end", {"partitions": [{"topic": "bench", "partition": 0}]})[0] == 204
    status, records, _ = client.call("GET", base + "/records?timeout=500", accept=JSON_RECORDS)
    assert status == 200 and records == []
    # An explicit commit of one partition's offset.
    offset_5 = {"offsets": [{"topic": "bench", "partition": 0, "offset": 5}]}
    assert client.call("POST", base + "/offsets", offset_5)[0] == 204
    groups = run_class("kafka", "consumer-groups", "--bootstrap-server", bridge["broker"]["bootstrap"], "--describe",
                       "--group", "readers", java_opts=bridge["broker"]["tools_opts"])
    committed = [ln.split() for ln in groups.stdout.splitlines() if ln.startswith("readers ")]
    assert [c[3] for c in committed if c[2] == "0"] == ["5"], groups.stdout

    assert client.call("DELETE", base + "/subscription")[0] == 204
    assert client.call("DELETE", base)[0] == 204
    status, body, _ = client.call("DELETE", base)
    assert status == 404 and body == NOT_FOUND


def poll_until(client, base: str, accept: str, count: int, timeout: float = 60) -> list[dict]:
    """Poll ``base/records`` until ``count`` records came (or ``timeout``); all of them."""
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        status, batch, _ = client.call("GET", base + "/records?timeout=1000", accept=accept)
        assert status == 200, batch
        records += batch
    return records


def test_unknown_consumer_is_404_json(client):
    for method, path in [("GET", "/consumers/nogroup/instances/nobody/records"),
                         ("POST", "/consumers/nogroup/instances/nobody/offsets"),
                         ("POST", "/consumers/nogroup/instances/nobody/subscription"),
                         ("POST", "/consumers/nogroup/instances/nobody/positions/beginning"),
                         ("DELETE", "/consumers/nogroup/instances/nobody")]:
        body = {"topics": ["bench"]} if path.endswith("subscription") else \
            {"partitions": [{"topic": "bench", "partition": 0}]} if "positions" in path else None
        status, error, headers = client.call(method, path, body, accept=JSON_RECORDS if method == "GET" else None)
        assert status == 404, (method, path)
        assert error == NOT_FOUND
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
    position = {"offsets": [{"topic": "bench", "partition": 2, "offset": offset}]}
    assert client.call("POST", c + "/positions", position)[0] == 204
    records = poll_until(client, c, BINARY_RECORDS, 1)
    assert records, "the binary record did not come back"
    assert base64.b64decode(records[0]["key"]) == key and base64.b64decode(records[0]["value"]) == value
    status, error, _ = client.call("GET", c + "/records", accept=JSON_RECORDS)
    assert status == 406 and error == {
        "error_code": 406,
        "message": "Consumer format does not match the embedded format requested by the Accept header."}
    # Subscribing an assigned consumer: Strimzi's 409.
    status, error, _ = client.call("POST", c + "/subscription", {"topics": ["bench"]})
    assert status == 409 and error["error_code"] == 409
    assert client.call("DELETE", c)[0] == 204

    # One bad partition fails that record only; a body that breaks the API's schema, or a body that
    # is not JSON records, fails the request: 400 with the validation errors (where Strimzi's
    # OpenAPI validation answers, not 422 or 415).
    # (The producer waits max.block.ms, 5 s here, for partition 9 to appear in the metadata.)
    status, body, _ = client.call("POST", "/topics/bench",
                                  {"records": [{"value": "a"}, {"value": "b", "partition": 9}]}, JSON_RECORDS)
    assert status == 200 and "offset" in body["offsets"][0]
    assert body["offsets"][1] == {"error_code": 404, "message": "Partition 9 of topic bench with partition count 3 "
                                                                "is not present in metadata after 5000 ms."}, body
    status, error, _ = client.call("POST", "/topics/bench", {"records": "nope"}, JSON_RECORDS)
    assert status == 400 and error["message"] == "Validation error on: Schema validation error"
    assert any("Expected array" in e for e in error["validation_errors"]), error
    status, error, _ = client.call("POST", "/topics/bench", {"records": []}, "text/plain")
    assert status == 400 and error["message"] == "Validation error on: The format of the request body is not supported"
    # A consumer format Strimzi does not have, and a poll whose records exceed max_bytes: 422.
    status, error, _ = client.call("POST", "/consumers/raw", {"name": "x", "format": "avro"})
    assert status == 422 and error == {"error_code": 422, "message": "Invalid format type."}
    c = "/consumers/small/instances/small-1"
    assert client.call("POST", "/consumers/small", {"name": "small-1", "format": "binary"})[0] == 200
    try:
        assert client.call("POST", c + "/assignments", {"partitions": [{"topic": "bench", "partition": 2}]})[0] == 204
        position = {"offsets": [{"topic": "bench", "partition": 2, "offset": offset}]}
        assert client.call("POST", c + "/positions", position)[0] == 204
        deadline, status = time.monotonic() + 60, 200
        while status == 200 and time.monotonic() < deadline:
            status, error, _ = client.call("GET", c + "/records?timeout=1000&max_bytes=1", accept=BINARY_RECORDS)
        assert status == 422 and error["error_code"] == 422, error
    finally:
        client.call("DELETE", c)


def test_bridge_without_kafka_answers_errors_in_time_and_stops_on_sigterm(broker):
    dead_port = free_port()  # nothing listens there
    proc, port, log = start_bridge(
        broker["dir"], "dead-bridge", DEAD_BRIDGE_HOST,
        f"kafka.bootstrap.servers=127.0.0.1:{dead_port}\nkafka.producer.max.block.ms=3000\n")
    client = Client(DEAD_BRIDGE_HOST, port, timeout=120)
    try:
        t0 = time.monotonic()
        status, body, _ = client.call("POST", "/topics/bench", {"records": [{"value": str(i)} for i in range(5)]},
                                      JSON_RECORDS)
        elapsed = time.monotonic() - t0
        # Strimzi hands the records to the producer one by one, and each send waits up to
        # max.block.ms for metadata: about 5 x 3 s, an error per record, no hang.
        assert 3 <= elapsed < 60, elapsed
        assert status == 200 and len(body["offsets"]) == 5, body
        for entry in body["offsets"]:
            assert entry["error_code"] == 404 and "not present in metadata after 3000 ms" in entry["message"], entry
    finally:
        client.close()
        proc.terminate()  # SIGTERM to the JVM: a clean stop
        try:
            proc.wait(30)
        finally:
            stop(proc)
    assert proc.returncode == 143  # the JVM's exit status after SIGTERM and its shutdown hooks
