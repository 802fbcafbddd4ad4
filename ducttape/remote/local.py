"""Accounts for logical nodes on this machine: commands through invoke's local runner."""

from __future__ import annotations

import os
import shutil
import subprocess

from invoke import Config, Context
from invoke.runners import Local

from ducttape.remote.account import RemoteAccount


class _Local(Local):
    """invoke's local runner, woken when the process exits instead of polling every 10 ms."""

    def wait(self) -> None:
        while not (self.process_is_finished or self.has_dead_threads):
            try:
                self.process.wait(0.05)
            except subprocess.TimeoutExpired:
                pass


class LocalAccount(RemoteAccount):
    """A RemoteAccount whose commands run on this machine; no sshd or keys needed."""

    def __init__(self, name: str, address: str = "127.0.0.1"):
        super().__init__(name, Context(Config(overrides={"runners": {"local": _Local}})), address)

    def create_file(self, path: str, text: str, private: bool = False) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", opener=_private_opener if private else None) as f:
            f.write(text)

    def read_file(self, path: str) -> str:
        with open(path) as f:
            return f.read()

    def copy_to(self, local_path: str, remote_path: str) -> None:
        _copy(local_path, remote_path)

    def copy_from(self, remote_path: str, local_path: str) -> None:
        _copy(remote_path, local_path)


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through open()
    return fd


def _copy(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)
