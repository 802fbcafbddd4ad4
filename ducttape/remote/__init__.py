"""Remote accounts: commands, files and processes on a node (local or over SSH)."""

from ducttape.remote.account import LogMonitor, RemoteAccount
from ducttape.remote.errors import ConnectionLostError, RemoteCommandError
from ducttape.remote.local import LocalAccount
from ducttape.remote.ssh import SshAccount

__all__ = ["ConnectionLostError", "LocalAccount", "LogMonitor", "RemoteAccount", "RemoteCommandError", "SshAccount"]
