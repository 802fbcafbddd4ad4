"""Git checkouts of source projects, with GitPython.

A checkout is made by ``Repo.init`` + ``create_remote`` + ``Remote.fetch`` rather than
``Repo.clone_from``: the result is the same clone, but ``fetch`` takes ``kill_after_timeout`` and
``clone_from`` (GitPython 3.1) has no timeout at all. The pinned ref is always checked out as a
detached HEAD, so branches, tags and commits behave alike.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import git

from ducttape.build.maven import StepError
from ducttape.command_line import command
from ducttape.secret import strip_url_credentials

GIT_TIMEOUT_S = 600
STALL_TIMEOUT_S = 30
# Never prompt for a password or a host key: fail instead, so a build never hangs on input. A
# server that accepts the connection and then sends nothing for STALL_TIMEOUT_S fails the fetch
# (http: curl's low-speed limit; ssh: keep-alive probes) long before GIT_TIMEOUT_S.
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=2",
    "GIT_HTTP_LOW_SPEED_LIMIT": "1",
    "GIT_HTTP_LOW_SPEED_TIME": str(STALL_TIMEOUT_S),
}
# Build outputs inside the checkout must not count as local changes: Maven's target/ folders, and
# the runtime classpath and launcher of a project with main classes.
EXCLUDES = ("target/", "/libs/", "/bin/run-class")


def clone(url: str, ref: str, dest: Path, log: Path) -> git.Repo:
    """Clone ``url`` into the new folder ``dest`` and check out ``ref``; raise StepError."""
    repo = git.Repo.init(dest)
    repo.git.update_environment(**GIT_ENV)
    origin = repo.create_remote("origin", url)
    _fetch(origin, url, log)
    exclude_outputs(repo)
    checkout(repo, ref, log)
    return repo


def open_checkout(path: Path) -> git.Repo:
    """The existing checkout at ``path`` (no network)."""
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise StepError(f"git open {path}", f"{path} is not a git checkout; move it away and build again") from None
    repo.git.update_environment(**GIT_ENV)
    exclude_outputs(repo)
    return repo


def update(repo: git.Repo, url: str, ref: str, log: Path) -> None:
    """Fetch from ``url`` (made the origin) and check out ``ref`` again."""
    origin = repo.remotes.origin if "origin" in repo.remotes else repo.create_remote("origin", url)
    _fetch(origin, url, log)
    checkout(repo, ref, log)


def check_outputs_untracked(repo: git.Repo, paths: tuple[str, ...]) -> None:
    """Raise StepError if the project tracks any of ``paths``, where the build writes outputs."""
    tracked = repo.git.ls_files("--", *paths)
    if tracked:
        first = tracked.splitlines()[0]
        raise StepError(
            f"git ls-files {' '.join(paths)}",
            f"the repository tracks {first}, where `{command()} build` writes a runtime classpath "
            f"(libs/, libs_in) or the launcher of main_classes; choose another folder or "
            f"drop main_classes",
        )


def checkout(repo: git.Repo, ref: str, log: Path) -> str:
    """Check out ``ref`` (remote branch, tag or commit, as known locally) detached; its SHA."""
    sha = resolve(repo, ref)
    if sha is None:
        raise StepError(
            f"git checkout {ref}",
            f"no branch, tag or commit '{ref}' in {strip_url_credentials(repo.remotes.origin.url)}",
        )
    if repo.head.is_valid() and repo.head.commit.hexsha == sha and repo.head.is_detached:
        return sha
    try:
        repo.git.checkout("--detach", sha)
    except git.GitCommandError as e:
        _log(log, e)
        raise StepError(f"git checkout --detach {sha[:12]}", "git checkout: " + _reason(e)) from None
    return sha


def resolve(repo: git.Repo, ref: str) -> str | None:
    """SHA of ``ref`` as a remote branch, a tag or a commit, from what is known locally."""
    for candidate in (f"refs/remotes/origin/{ref}", f"refs/tags/{ref}", ref):
        try:
            return repo.git.rev_parse("--verify", "--quiet", f"{candidate}^{{commit}}")
        except git.GitCommandError:
            continue
    return None


def tree_state(repo: git.Repo) -> str:
    """A hash of HEAD and the working tree's local changes (tracked diffs, untracked files)."""
    h = hashlib.sha256(repo.head.commit.hexsha.encode())
    status = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all")
    h.update(status.encode())
    if status:
        h.update(repo.git.diff("HEAD", "--binary").encode())
        for entry in status.split("\0"):
            if entry.startswith("?? "):
                st = os.stat(Path(repo.working_dir) / entry[3:])
                h.update(f"{entry}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _fetch(origin: git.Remote, url: str, log: Path) -> None:
    """Fetch from ``url``; the checkout keeps the URL without its credentials (a token stays
    out of ``.git/config``), and no message or log shows them."""
    shown = strip_url_credentials(url)
    try:
        if origin.url != url:
            origin.set_url(url)
        # update_shallow: a mirror may be shallow (a snapshot of a tag), whose roots must come too
        origin.fetch(tags=True, prune=True, force=True, update_shallow=True, kill_after_timeout=GIT_TIMEOUT_S)
    except git.GitCommandError as e:
        _log(log, e)
        raise StepError(f"git fetch {shown}", f"git fetch {shown}: " + strip_url_credentials(_reason(e))) from None
    finally:
        if shown != url:
            origin.set_url(shown)


def exclude_outputs(repo: git.Repo, extra: tuple[str, ...] = ()) -> None:
    """Keep the build's outputs (EXCLUDES and ``extra`` patterns) out of ``git status``."""
    exclude = Path(repo.git_dir) / "info" / "exclude"
    exclude.parent.mkdir(exist_ok=True)
    have = exclude.read_text().splitlines() if exclude.exists() else []
    missing = [p for p in (*EXCLUDES, *extra) if p not in have]
    if missing:
        with open(exclude, "a") as f:
            f.write("".join(f"{p}\n" for p in missing))


def _reason(e: git.GitCommandError) -> str:
    """Git's first ``fatal:``/``error:`` line (the cause; later ones repeat the consequence)."""
    lines = [ln.strip().removeprefix("stderr:").strip().strip("'") for ln in str(e.stderr or "").splitlines()]
    lines = [ln for ln in lines if ln]
    for ln in lines:
        if ln.startswith(("fatal:", "error:")):
            return ln
    return lines[-1] if lines else f"git exited with code {e.status}"


def _log(log: Path, e: git.GitCommandError) -> None:
    command = strip_url_credentials(" ".join(str(a) for a in e.command))
    with open(log, "a") as f:
        f.write(f"$ {command}\n{strip_url_credentials(str(e.stderr))}\n# exit code {e.status}\n")
