"""Run a local command with a timeout; failures become one-line `ClusterError`s."""

import subprocess

from ducttape.errors import ClusterError


def run(cmd, timeout, what=None, **kwargs):
    """Run ``cmd`` (a list) to completion within ``timeout`` seconds, capturing its output as text.

    Returns the CompletedProcess. A missing program, a timeout or a non-zero exit raises
    ClusterError naming ``what`` (default: the command) with the last line of its output.
    """
    what = what or " ".join(cmd[:3])
    kwargs.setdefault("capture_output", True)
    try:
        result = subprocess.run(cmd, timeout=timeout, text=True, **kwargs)
    except FileNotFoundError:
        raise ClusterError(f"{what}: `{cmd[0]}` is not installed; run ./install.sh") from None
    except subprocess.TimeoutExpired:
        raise ClusterError(f"{what}: no answer within {timeout} s") from None
    if result.returncode != 0:
        raise ClusterError(f"{what} failed (exit {result.returncode}): {last_line(result)}")
    return result


def last_line(result):
    """The last non-empty line of a finished command's stderr, else of its stdout."""
    for text in (result.stderr, result.stdout):
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"
