"""Probes that measure what a fault did, run on the workers with the tools every node has
(bash's /dev/tcp, curl): can a TCP connection be made, what share of them fail, how long an
HTTP request/response round trip takes on an open connection."""

import shlex
import statistics


def connects(node, target, port=22, timeout=2):
    """Whether ``node`` can open a TCP connection to ``target``'s address within ``timeout``."""
    script = f"</dev/tcp/{target.address}/{port}"
    return node.account.ssh(f"timeout {timeout} bash -c {shlex.quote(script)}", allow_fail=True,
                            timeout=timeout + 30) == 0


def connect_failures(node, target, probes, port=22, timeout=0.5):
    """How many of ``probes`` TCP connections from ``node`` to ``target`` are not answered
    within ``timeout`` seconds (a lost SYN or SYN-ACK is retransmitted only after 1 s)."""
    script = (f"ok=0; for i in $(seq {probes}); do timeout {timeout} bash -c "
              f"'</dev/tcp/{target.address}/{port}' 2>/dev/null && ok=$((ok+1)); done; echo $ok")
    return probes - int(node.account.ssh_output(script, timeout=probes * timeout + 60))


def http_round_trips(node, url, requests=25):
    """Milliseconds each request takes, from sending it to the end of its (small) answer, on one
    kept-alive connection (the first request, which also connects, is left out)."""
    out = node.account.ssh_output(
        "curl -s -w '%{time_total}\\n' "
        + " ".join([f"-o /dev/null {shlex.quote(url)}"] * requests), timeout=120)
    return [float(line) * 1000 for line in out.split()[1:]]


def median(values):
    return statistics.median(values)
