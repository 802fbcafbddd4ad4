"""Sample scenario: request latency and throughput of a small echo service, with repeats.

A line-echo server runs on one node and answers each line ``delay_ms`` late (default 1, a stand-in
for the work of a real service); after a warm-up round the test sends ``requests`` requests one after the other,
``repeats`` times, and returns the median latency and the throughput of each repeat (figures with
repeats, so ``invoke compare`` can judge them). ``--param delay_ms=N`` makes the server answer
N ms late instead: e.g. ``delay_ms=1.5`` is a deliberate slowdown that comparisons and the history
must catch.

    invoke test sample_latency [--param delay_ms=1.5] [--param repeats=5] [--param requests=50]
"""

import base64
import socket
import statistics
import time

from ducttape.runner import Test, cluster
from ducttape.services import Service

PORT = 18077
DEFAULT_DELAY_MS = 1.0
SERVER = b"""
import socket, sys, time
delay = float(sys.argv[3]) / 1000
server = socket.create_server((sys.argv[1], int(sys.argv[2])))
print("echo server ready", flush=True)
while True:
    conn, _ = server.accept()
    with conn, conn.makefile("rwb") as f:
        for line in f:
            if delay:
                time.sleep(delay)
            f.write(line)
            f.flush()
"""


class EchoService(Service):
    """A TCP server on each node that answers every line with the same line, ``delay_ms`` late."""

    def __init__(self, cluster, delay_ms: float = 0.0, port: int = PORT):
        super().__init__(cluster, num_nodes=1)
        self.delay_ms, self.port = delay_ms, port

    def start_node(self, node):
        monitor = node.account.monitor_log(self.path(node, self.logs["output"]))
        code = base64.b64encode(SERVER).decode()
        self.spawn(
            node,
            f"python3 -u -c \"import base64; exec(base64.b64decode('{code}'))\" "
            f"{node.address} {self.port} {self.delay_ms:g}",
        )
        self.wait_for_log(node, monitor, "echo server ready", timeout=30)


class SampleLatencyTest(Test):
    """Measure the echo service's latency and throughput, ``repeats`` times."""

    @cluster(num_nodes=1)
    def test_echo(self):
        delay_ms = float(self.params.get("delay_ms", DEFAULT_DELAY_MS))
        repeats, requests = int(self.params.get("repeats", 5)), int(self.params.get("requests", 50))
        echo = EchoService(self.cluster, delay_ms)
        echo.start()
        node = echo.nodes[0]
        latencies, medians, rates = [], [], []
        with socket.create_connection((node.address, echo.port), timeout=30) as conn, conn.makefile("rwb") as f:
            for n in range(repeats + 1):  # round 0 warms up and is not measured
                these = []
                began = time.perf_counter()
                for i in range(requests):
                    sent = time.perf_counter()
                    f.write(b"ping %d\n" % i)
                    f.flush()
                    assert f.readline() == b"ping %d\n" % i, "the echo server answered something else"
                    these.append((time.perf_counter() - sent) * 1000)
                if n:
                    rates.append(requests / (time.perf_counter() - began))
                    medians.append(statistics.median(these))
                    latencies += these
        echo.stop()
        self.plot(latencies, delay_ms)
        self.show(
            f"delay {delay_ms:g} ms, {repeats} x {requests} requests: median latency per repeat "
            f"{', '.join(f'{m:.2f}' for m in medians)} ms; throughput "
            f"{', '.join(f'{r:.0f}' for r in rates)} requests/s"
        )
        return {
            "delay_ms": delay_ms,
            "requests": requests,
            "latency_median": {"values": [round(m, 4) for m in medians], "unit": "ms"},
            "throughput": {"values": [round(r, 2) for r in rates], "unit": "requests/s"},
        }

    def plot(self, latencies, delay_ms):
        """latency.png in the test's folder: the histogram of every request's latency."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(latencies, bins=40, color="#3465a4")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("requests")
        ax.set_title(f"echo latency, delay_ms={delay_ms:g}", fontsize=9)
        fig.tight_layout()
        fig.savefig(f"{self.results_dir}/latency.png", dpi=90)
        plt.close(fig)


if __name__ == "__main__":
    from ducttape.runner.main import main

    main(__spec__.name)
