"""The load generator's own measuring (LoadGen.java), against things whose answer is known.

REST path: a trivial HTTP sink that answers every POST after a fixed delay. At a load it keeps
up with, the per-record p50 is the delay (plus, with several records per request, the time a
record waits for its request to fill); at a load it cannot keep up with, latencies grow with the
backlog, because they count from each record's due time (no coordinated omission).

Native path: the same pacing loop and latency definition, checked where the answer is known: a
broker whose client quota throttles the producer to a fraction of the offered load, and a small
producer buffer so that send() blocks; the latencies still grow with the backlog.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ducttape.build import layout
from ducttape.cluster.localhost import LocalhostCluster
from ducttape.products.kafka import KafkaService
from ducttape.runner.context import TestContext
from ducttape.products.performance import NativeProducerLoadService
from ducttape.products.performance.loadgen import LOADGEN, LOADGEN_HEAP, classpath
from kafka_helpers import leftovers

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DELAY_S = 0.2
"""The sink's delay per request: large enough that the scheduling noise of a 2-core machine
shared by other work (10-15 ms at a load average of 40, measured) stays inside 10% of it."""


class _DelaySink(BaseHTTPRequestHandler):
    """Answers POST /topics/T after DELAY_S with an offset for each record, like the bridge."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 65536  # the response in one write

    def do_POST(self):
        records = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["records"]
        time.sleep(DELAY_S)
        body = json.dumps({"offsets": [{"partition": 0, "offset": i} for i in range(len(records))]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.kafka.v2+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sink():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DelaySink)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def produce_rest(url: str, rate: float, seconds: float, records_per_request: int,
                 in_flight: int) -> tuple[dict, list[dict]]:
    """Run LoadGen's REST producer here; its result and its per-second stats."""
    proc = subprocess.run(
        ["java", f"-Xmx{LOADGEN_HEAP}", "-cp", classpath(str(layout.build_dir())), LOADGEN, "produce-rest",
         "--url", url, "--topic", "t", "--record-size", "100", "--seconds", str(seconds), "--rate", str(rate),
         "--warmup-s", "1", "--records-per-request", str(records_per_request), "--in-flight", str(in_flight),
         "--interval-ms", "1000"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1]["event"] == "result"
    return events[-1], [e for e in events if e["event"] == "stats"]


def test_rest_latency_at_a_load_the_sink_keeps_up_with(built, sink):
    # one record per request: each record's latency is the sink's delay
    result, _ = produce_rest(sink, rate=10, seconds=10, records_per_request=1, in_flight=4)
    assert result["records"] == result["records_sent"] == 100 and result["requests"] == 100
    assert result["records_per_sec"] == pytest.approx(10, rel=0.05)
    assert result["latency_50th_ms"] == pytest.approx(DELAY_S * 1000, rel=0.10), result

    # ten records per request: a record also waits for its request to fill (0 to 9 records'
    # due times, 50 ms apart), so per record the mean is the delay + 225 ms and p50 at least the
    # delay + 200 ms (the 5th of 10 waits); per request both would be the delay alone (the sink
    # takes 20 requests/s, 2 are offered)
    result, _ = produce_rest(sink, rate=20, seconds=10, records_per_request=10, in_flight=4)
    assert result["records"] == 200 and result["requests"] == 20
    assert result["latency_avg_ms"] == pytest.approx(DELAY_S * 1000 + 225, rel=0.10), result
    assert result["latency_50th_ms"] >= DELAY_S * 1000 + 200 - 1, result
    assert result["latency_max_ms"] >= DELAY_S * 1000 + 450, result


def test_rest_latency_grows_with_the_backlog_when_the_sink_cannot_keep_up(built, sink):
    # 2 requests in flight of 1 record each, 200 ms apiece: the sink takes 10 records/s; 30 are
    # offered for 5 s. The run falls behind and stops sending at twice its length, 10 s, having
    # sent about 100 records; the other 50 count as unsent, with their wait so far.
    result, stats = produce_rest(sink, rate=30, seconds=5, records_per_request=1, in_flight=2)
    sent, unsent = result["records_sent"], result["records_unsent"]
    assert result["records"] == sent and sent + unsent == 150, result
    assert 80 <= sent <= 110 and result["records_per_sec"] < 12.5, result
    assert result["elapsed_s"] < 10 + 2 * 2 * DELAY_S, "sending stops at twice the run's length"
    # the first unsent record was due at sent/30 s and had waited until 10 s
    assert result["latency_max_ms"] >= 0.9 * (10 - sent / 30) * 1000, result
    assert result["latency_50th_ms"] > 10 * DELAY_S * 1000, "a closed loop would report the delay"
    windows = [s["latency_max_ms"] for s in stats if s["records"]]
    assert windows[-1] > 3 * windows[0] and windows == sorted(windows), windows


@pytest.fixture
def throttled_kafka(tmp_path):
    cluster = LocalhostCluster(2, scratch_root=str(tmp_path / "scratch"))
    try:
        with TestContext(cluster):  # stops the services made here, newest first
            kafka = KafkaService(cluster, 1, topics={"throttled": {"partitions": 1}})
            kafka.start()
            kafka.run_tool("configs", "--bootstrap-server", kafka.bootstrap_servers(), "--alter",
                           "--entity-type", "clients", "--entity-default",
                           "--add-config", "producer_byte_rate=10240")
            yield cluster, kafka
    finally:
        cluster.close()
    assert not leftovers(tmp_path)


def test_native_latency_grows_with_the_backlog_when_the_broker_throttles(built, throttled_kafka):
    cluster, kafka = throttled_kafka
    # 10 KiB/s is well under 100-byte records at 500/s; a 16 KiB buffer makes send() block
    producer = NativeProducerLoadService(cluster, 1, kafka, "throttled", record_size=100, seconds=5,
                                         rate=500, settings={"acks": 1, "buffer.memory": 16384,
                                                             "batch.size": 4096, "linger.ms": 0})
    producer.run(timeout=600)
    result = producer.results[0]
    sent, unsent = result["records_sent"], result["records_unsent"]
    assert result["records"] == sent and sent + unsent == 2500 and result["errors"] == 0, result
    assert unsent > 0 and result["records_per_sec"] < 0.5 * 500, result
    # sending stopped at 10 s, twice the run's length; the broker then drained the buffer
    assert 10 <= result["elapsed_s"] < 20, result
    # the first unsent record was due at sent/500 s and had waited until 10 s at least
    assert result["latency_max_ms"] >= 0.9 * (10 - sent / 500) * 1000, result
    assert result["latency_50th_ms"] > 1000, result
    assert result["schedule_lag_max_ms"] > 1000, "send() blocked on the full buffer"
