"""Parameters: a case per combination (@matrix), cases picked by hand (@parametrize), a node need
that depends on the case, and session parameters from the command line (--param).

    invoke test docs/examples/parameters.py --param size_mb=2
"""

import time

from ducttape.runner import Test, cluster, matrix, parametrize


class ParametersTest(Test):
    """Hash ``size_mb`` MB of zeros on each node (``--param size_mb=N``, default 1)."""

    @matrix(nodes=[1, 2], algorithm=["sha1sum", "sha256sum"])  # 4 cases
    @cluster(num_nodes=lambda nodes, **_: nodes)  # called with the case's parameters by keyword
    def test_hash(self, nodes, algorithm):  # the test method gets them by keyword too
        size_mb = int(self.params.get("size_mb", 1))  # the same in every case of the session
        assert len(self.cluster.nodes) == nodes
        rates = []
        for node in self.cluster.nodes:
            began = time.monotonic()
            node.account.ssh(f"head -c {size_mb}M /dev/zero | {algorithm}")
            rates.append(size_mb / (time.monotonic() - began))
        return {"size_mb": size_mb,
                "throughput": {"values": [round(r, 2) for r in rates], "unit": "MB/s"}}

    @cluster(num_nodes=1)
    @parametrize(command="true", expected=0)
    @parametrize(command="exit 3", expected=3)
    def test_status(self, command, expected):
        status = self.cluster.nodes[0].account.ssh(command, allow_fail=True)
        assert status == expected, f"`{command}` exited {status}, not {expected}"
        return {"status": status}
