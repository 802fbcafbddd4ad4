"""Probes that measure what a fault did, run on the workers with the tools every node has
(bash's /dev/tcp, curl): can a TCP connection be made, what share of new connections fail, how
long an HTTP request/response round trip takes on an open connection, at what rate a stream of
bytes arrives."""

import shlex
import statistics


def connects(node, target, port=22, timeout=5):
    """Whether ``node`` can open a TCP connection to ``target``'s address within ``timeout``."""
    script = f"</dev/tcp/{target.address}/{port}"
    return node.account.ssh(f"timeout {timeout} bash -c {shlex.quote(script)}", allow_fail=True,
                            timeout=timeout + 30) == 0


def connect_failures(node, url, probes, timeout=0.9, parallel=4):
    """How many of ``probes`` HTTP requests from ``node`` to ``url``, each on a new connection,
    fail to connect within ``timeout`` seconds (a lost SYN or SYN-ACK is sent again only after
    1 s). ``parallel`` curls make them all, each a share one after another, so the timeout
    counts no process start-up and the failures' waits overlap."""
    shares = [probes // parallel + (i < probes % parallel) for i in range(parallel)]
    curls = [f"curl -s --connect-timeout {timeout} -H 'Connection: close' -w '%{{http_code}}\\n' "
             + " ".join([f"-o /dev/null {shlex.quote(url)}"] * share) for share in shares if share]
    out = node.account.ssh_output(" & ".join(curls) + " & wait", allow_fail=True,
                                  timeout=max(shares) * (timeout + 1) + 60)
    codes = out.split()
    assert len(codes) == probes, f"{len(codes)} answers to {probes} probes: {out[-200:]}"
    return sum(code == "000" for code in codes)


def http_round_trips(node, url, requests=25):
    """Milliseconds each request takes, from sending it to the end of its (small) answer, on one
    kept-alive connection (the first request, which also connects, is left out)."""
    out = node.account.ssh_output(
        "curl -s -w '%{time_total}\\n' "
        + " ".join([f"-o /dev/null {shlex.quote(url)}"] * requests), timeout=120)
    return [float(line) * 1000 for line in out.split()[1:]]


def throughput(node, source, port, timeout=120):
    """Read all that the ByteSource on ``source`` sends to a connection on ``port``, on
    ``node``; return the bytes received and their rate in bits per second (from the connection
    being open to its end)."""
    script = (f"exec 3</dev/tcp/{source.address}/{port}; start=$(date +%s%N); n=$(wc -c <&3); "
              "end=$(date +%s%N); echo $n $((end - start))")
    out = node.account.ssh_output(f"timeout {timeout} bash -c {shlex.quote(script)}",
                                  timeout=timeout + 30)
    received, nanoseconds = (int(word) for word in out.split())
    return received, received * 8 / (nanoseconds / 1e9)


def median(values):
    return statistics.median(values)
