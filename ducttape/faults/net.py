"""Commands that change a node's own network: iptables chains and tc qdiscs.

Every rule a fault adds lives in chains of its own (``DUCTTAPE-<id>``), entered by one jump rule
per built-in chain; healing deletes the jumps and the chains, so exactly the fault's own rules go
and nobody else's. Rules only ever match the addresses of the cluster's other nodes (or, for tc,
the interface that carries them): the control connection the driver uses is left alone.
"""

from __future__ import annotations

import re
import shlex

from ducttape.cluster import Node
from ducttape.command_line import command
from ducttape.errors import ConfigError

CHAIN_PREFIX = "DUCTTAPE-"
COMMAND_TIMEOUT = 30.0
q = shlex.quote


def args(*words: object) -> str:
    """``words`` as shell words, each quoted: how every value reaches an iptables or tc command."""
    return " ".join(q(str(w)) for w in words)


def as_root(cmd: str) -> str:
    """``cmd`` as a command line that runs it as root (without a password prompt)."""
    return f"sudo -n sh -c {q(cmd)}"


def sudo(node: Node, cmd: str, allow_fail: bool = False) -> str:
    """Run ``cmd`` as root on ``node``; return its stdout."""
    return node.account.ssh_output(as_root(cmd), allow_fail=allow_fail, timeout=COMMAND_TIMEOUT)


def interface(node: Node) -> str:
    """The network interface that carries ``node.address``."""
    out = node.account.ssh_output("ip -o -4 addr show", timeout=COMMAND_TIMEOUT)
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3].split("/")[0] == node.address:
            return fields[1].split("@")[0]
    raise ConfigError(f"fault on {node.name}: no interface has its address {node.address}")


def check_iptables(node: Node) -> None:
    """Raise ConfigError (one line) unless root's iptables works on ``node``."""
    result = node.account.run("sudo -n iptables -w -S INPUT", allow_fail=True, timeout=COMMAND_TIMEOUT)
    if result.exited != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit {result.exited}"])[-1]
        raise ConfigError(
            f"network fault on {node.name}: `sudo iptables` does not work there ({reason}); "
            "docker workers need the iptables package and --cap-add NET_ADMIN: rebuild the node "
            f"image ({command()} cluster.image) and recreate the cluster"
        )


def has_netem(node: Node) -> bool:
    """Whether the kernel of ``node`` has tc's netem qdisc (tried on the loopback device)."""
    out = sudo(
        node,
        "tc qdisc add dev lo root handle 1: netem delay 0ms 2>&1 && tc qdisc del dev lo root && echo netem-ok",
        allow_fail=True,
    )
    return "netem-ok" in out


def chain_name(fault_id: str) -> str:
    return f"{CHAIN_PREFIX}{fault_id}"


def add_chain(node: Node, chain: str, jumps: list[tuple[str, str]], rules: list[str], table: str = "filter") -> None:
    """Create ``chain`` in ``table`` with ``rules`` (iptables arguments after ``-A chain``, made
    with ``args``) and enter it from each (built-in chain, match made with ``args``) of
    ``jumps``; one command on the node."""
    t, c = q(table), q(chain)
    cmds = [f"iptables -w -t {t} -N {c}"]
    cmds += [f"iptables -w -t {t} -A {c} {rule}" for rule in rules]
    cmds += [f"iptables -w -t {t} -I {q(builtin)} 1 {match} -j {c}" for builtin, match in jumps]
    sudo(node, " && ".join(cmds))


def remove_chains(node: Node, chain: str) -> None:
    """Delete every jump to ``chain`` and ``chain`` itself, in every table (missing: fine)."""
    sudo(node, remove_chains_script(chain))


def remove_chains_script(chain: str) -> str:
    """The shell script (run as root) of ``remove_chains``."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", chain):
        raise ValueError(f"not a chain name: {chain!r}")
    return (
        "for t in filter nat; do "
        f"  iptables -w -t $t -S | grep -- {q(f'-j {chain}$')} | sed 's/^-A /-D /' | "
        "   while read -r rule; do eval iptables -w -t $t $rule; done; "
        f"  if iptables -w -t $t -S {q(chain)} >/dev/null 2>&1; then "
        f"    iptables -w -t $t -F {q(chain)} && iptables -w -t $t -X {q(chain)}; fi; "
        "done"
    )


def our_rules(node: Node) -> list[str]:
    """Every iptables rule or chain on ``node`` that a ducttape fault made."""
    out = sudo(node, "iptables-save -t filter; iptables-save -t nat")
    return [line for line in out.splitlines() if CHAIN_PREFIX in line]


def qdisc(node: Node, device: str) -> str:
    """The root qdisc of ``device`` on ``node`` (``tc qdisc show`` text)."""
    return sudo(node, f"tc qdisc show dev {q(device)} root")


def validate_rate(rate: str) -> str:
    """A tc rate such as ``1mbit`` or ``500kbit``; ConfigError (one line) otherwise."""
    if not re.fullmatch(r"\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)", rate):
        raise ConfigError(f"bandwidth rate {rate!r} is not a tc rate: write e.g. '1mbit' or '500kbit'")
    return rate
