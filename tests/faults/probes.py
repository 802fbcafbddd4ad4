"""Probes that measure what a fault did, run on the workers with the tools every node has
(bash's /dev/tcp, curl): can a TCP connection be made, what share of new connections fail, how
long an HTTP request/response round trip takes on an open connection."""

import shlex
import statistics


def connects(node, target, port=22, timeout=5):
    """Whether ``node`` can open a TCP connection to ``target``'s address within ``timeout``."""
    script = f"</dev/tcp/{target.address}/{port}"
    return node.account.ssh(f"timeout {timeout} bash -c {shlex.quote(script)}", allow_fail=True,
                            timeout=timeout + 30) == 0


def connect_failures(node, url, probes, timeout=0.9):
    """How many of ``probes`` HTTP requests from ``node`` to ``url``, each on a new connection,
    fail to connect within ``timeout`` seconds (a lost SYN or SYN-ACK is sent again only after
    1 s). One curl makes them all, so the timeout counts no process start-up."""
    out = node.account.ssh_output(
        f"curl -s --connect-timeout {timeout} -H 'Connection: close' -w '%{{http_code}}\\n' "
        + " ".join([f"-o /dev/null {shlex.quote(url)}"] * probes), allow_fail=True,
        timeout=probes * (timeout + 1) + 60)
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


def median(values):
    return statistics.median(values)
