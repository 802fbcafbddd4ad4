"""Every vagrant command python-vagrant runs for us has a time limit."""

from ducttape.vagrant.machines import DEFAULT_TIMEOUT, TIMEOUTS, Machines


def test_vagrant_commands_run_under_timeout(tmp_path):
    machines = Machines(tmp_path)
    up = machines.vagrant._make_vagrant_command(["up", None, "--provider=docker"])
    assert up[:4] == ["timeout", "--foreground", "--kill-after=30", str(TIMEOUTS["up"])]
    assert up[4].endswith("vagrant") and up[5:] == ["up", "--provider=docker"]
    status = machines.vagrant._make_vagrant_command(["status", "--machine-readable"])
    assert status[3] == str(DEFAULT_TIMEOUT)
