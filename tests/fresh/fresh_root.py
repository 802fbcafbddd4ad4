"""A bare Debian 12 root (debootstrap minbase) to run commands in with chroot, as on a new machine.

It gets only this machine's package-manager settings (apt sources and configuration, pip.conf,
extra CA certificates, resolv.conf), so it reaches the same registries, and the Docker socket.
`FreshRoot` is a context manager: on exit it kills what still runs inside the root, unmounts
everything it mounted (and checks /proc/mounts) and only then deletes the root.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from ducttape.vagrant.image import debian_mirror

SUITE = "bookworm"
CACHE = Path("/var/cache/ducttape")  # outside any repository; kept between runs
MINBASE_TARBALL = CACHE / f"{SUITE}-minbase.tar"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Nothing started by a package's maintainer scripts (sshd, dockerd) may run inside the root.
POLICY_RC_D = "#!/bin/sh\n# no services start in this root (ducttape's fresh-machine test)\nexit 101\n"


def run(cmd, timeout=120, **kwargs):
    """Run ``cmd``; raise with its output if it fails."""
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed (exit {result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


def mounts_under(path) -> list[str]:
    """Mount points at or below ``path``, from /proc/mounts."""
    prefix = str(Path(path).resolve())
    with open("/proc/mounts") as mounts:
        points = [line.split()[1].replace("\\040", " ") for line in mounts]
    return [p for p in points if p == prefix or p.startswith(prefix + os.sep)]


def pids_inside(root) -> list[int]:
    """Processes whose root directory is ``root`` (started by chroot into it)."""
    root = str(Path(root).resolve())
    found = []
    for entry in glob.glob("/proc/[0-9]*/root"):
        try:
            if os.readlink(entry) == root:
                found.append(int(entry.split("/")[2]))
        except OSError:  # gone meanwhile, or a kernel thread
            continue
    return found


class FreshRoot:
    """A debootstrap minbase root at ``path`` with proc, sys, dev and the Docker socket mounted."""

    def __init__(self, path):
        self.path = Path(path)
        self.mounted: list[Path] = []
        self.leftovers: list[str] = []  # processes that were still running inside at exit

    # --- making it -------------------------------------------------------------------------

    def __enter__(self) -> "FreshRoot":
        try:
            self._unpack()
            self._copy_settings()
            self._mount_system()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _unpack(self):
        """Untar the cached minbase root, or debootstrap one (and cache it)."""
        self.path.mkdir(parents=True)
        if MINBASE_TARBALL.exists():
            run(["tar", "--numeric-owner", "-xpf", str(MINBASE_TARBALL), "-C", str(self.path)],
                timeout=600)
            return
        run(["debootstrap", "--variant=minbase", SUITE, str(self.path), debian_mirror()],
            timeout=1800)
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = MINBASE_TARBALL.with_suffix(f".tar.{os.getpid()}")
        run(["tar", "--numeric-owner", "-cpf", str(partial), "-C", str(self.path), "."], timeout=600)
        partial.rename(MINBASE_TARBALL)

    def _copy_settings(self):
        """This machine's apt, pip, CA and DNS settings, and nothing else."""
        (self.path / "etc/apt/sources.list").unlink(missing_ok=True)  # debootstrap's own
        settings = ["/etc/apt/sources.list", *glob.glob("/etc/apt/sources.list.d/*"),
                    *glob.glob("/etc/apt/apt.conf.d/*"), "/etc/pip.conf",
                    *glob.glob("/usr/local/share/ca-certificates/**/*.crt", recursive=True)]
        for source in filter(os.path.isfile, settings):
            target = self.path / source.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        # resolv.conf may be a symlink (systemd-resolved): copy what it says, not the link.
        (self.path / "etc/resolv.conf").unlink(missing_ok=True)
        (self.path / "etc/resolv.conf").write_text(Path("/etc/resolv.conf").read_text())
        policy = self.path / "usr/sbin/policy-rc.d"
        policy.write_text(POLICY_RC_D)
        policy.chmod(0o755)

    def _mount_system(self):
        self.mount(["-t", "proc", "proc"], "proc")
        self.mount(["-t", "sysfs", "sysfs"], "sys")
        self.mount(["--bind", "/dev"], "dev")
        self.mount(["--bind", "/dev/pts"], "dev/pts")
        self.mount(["-t", "tmpfs", "-o", "mode=1777", "shm"], "dev/shm")
        # /var/run is a symlink to /run in Debian 12; the root's dockerd is this machine's.
        self.bind("/var/run/docker.sock", "run/docker.sock")

    # --- using it ----------------------------------------------------------------------------

    def mount(self, args, inside):
        """``mount ARGS <root>/INSIDE``; remembered for unmounting."""
        target = self.path / inside
        target.mkdir(parents=True, exist_ok=True)
        run(["mount", *args, str(target)])
        self.mounted.append(target)
        return target

    def bind(self, source, inside, read_only=False):
        """Bind-mount the file or folder ``source`` at ``<root>/INSIDE``."""
        target = self.path / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.isdir(source):
            target.mkdir(exist_ok=True)
        else:
            target.touch()
        run(["mount", "--bind", str(source), str(target)])
        self.mounted.append(target)
        if read_only:
            run(["mount", "-o", "remount,bind,ro", str(target)])
        return target

    def run(self, command, env, log, timeout):
        """Run ``bash -c COMMAND`` inside the root with exactly ``env``; return its exit status,
        or None if it ran out of ``timeout`` (what it started is killed on exit). Each line of
        its output goes to ``log`` prefixed with the seconds since the start."""
        started = time.monotonic()
        proc = subprocess.Popen(["chroot", str(self.path), "/bin/bash", "-c", command],
                                env={"PATH": PATH, **env}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)

        def copy_lines():
            for line in proc.stdout:
                log.write(f"[{time.monotonic() - started:7.1f}s] {line.decode(errors='replace')}")
                log.flush()

        copier = threading.Thread(target=copy_lines, daemon=True)
        copier.start()
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill_inside()  # chroot itself runs inside the root
            proc.wait(timeout=30)
            return None
        finally:
            copier.join(timeout=30)
            proc.stdout.close()

    # --- leaving nothing behind --------------------------------------------------------------

    def close(self):
        """Kill what runs inside, unmount (checked in /proc/mounts), then delete the root."""
        if not self.path.exists():
            return
        self._kill_inside()
        for target in reversed(self.mounted):
            if subprocess.run(["umount", str(target)], capture_output=True, timeout=60).returncode:
                run(["umount", "--lazy", str(target)], timeout=60)  # detached: rm cannot reach it
        self.mounted.clear()
        still = mounts_under(self.path)
        if still:
            raise RuntimeError(f"{still[0]} is still mounted: not deleting {self.path}")
        shutil.rmtree(self.path)

    def _kill_inside(self, grace=10.0):
        pids = pids_inside(self.path)
        for pid in pids:
            self.leftovers.append(_describe(pid))
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pids_inside(self.path) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in pids_inside(self.path):
            _signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + grace
        while pids_inside(self.path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"processes {pids_inside(self.path)} inside {self.path} survive SIGKILL")
            time.sleep(0.1)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _describe(pid) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f"{pid}: " + f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return str(pid)
