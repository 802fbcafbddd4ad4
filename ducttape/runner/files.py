"""Files of the results folder: written whole or not at all, and read back without trusting them.

A report is written to a temporary file of a unique name beside it and renamed over it, so a
reader (or a second writer, such as ``invoke compare`` during a session) never sees half a file.
A damaged file of a past session (cut short by a full disk, say) is skipped with one warning on
stderr; it never stops a report, a comparison or the index.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import tempfile

log = logging.getLogger("ducttape.runner")
_warned: set[tuple[str, str]] = set()


def write_atomic(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename (mode 0644, as a report always was)."""
    folder, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json_or_skip(path: str) -> object | None:
    """The JSON document in ``path``; None (after one warning per file and reason) when it
    cannot be read or is not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        warn_skipped(path, str(exc))
        return None


def warn_skipped(path: str, reason: str) -> None:
    """Say once, on stderr and in the log, that damaged file ``path`` was skipped."""
    if (path, reason) in _warned:
        return
    _warned.add((path, reason))
    line = f"warning: skipped {path}: {reason}"
    log.warning(line)
    print(line, file=sys.stderr, flush=True)


def folder_bytes(path: str) -> int:
    """The bytes of every regular file under folder ``path`` (links not followed; 0 if there
    is no such folder): what a test's results take, whatever their file system's blocks."""
    total = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total
