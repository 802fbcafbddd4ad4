"""Remote accounts: commands, files and processes on a node (local or over SSH)."""

from ducttape.remote.account import DEFAULT_TIMEOUT, LogMonitor, RemoteAccount
from ducttape.remote.errors import ConnectionLostError, ProcessExitedError, RemoteCommandError
from ducttape.remote.local import LocalAccount
from ducttape.remote.ssh import SshAccount

__all__ = [
    "DEFAULT_TIMEOUT",
    "ConnectionLostError",
    "LocalAccount",
    "LogMonitor",
    "ProcessExitedError",
    "RemoteAccount",
    "RemoteCommandError",
    "SshAccount",
]
