"""A session's results folder: ``results/<session-id>/`` and the ``results/latest`` link."""

from __future__ import annotations

import datetime
import os


def new_session_dir(results_root: str) -> tuple[str, str]:
    """Create ``<results_root>/<YYYY-MM-DD--NNN>/`` and point ``latest`` at it; return (id, path)."""
    os.makedirs(results_root, exist_ok=True)
    today = datetime.date.today().isoformat()
    for n in range(1, 10000):
        session_id = f"{today}--{n:03d}"
        path = os.path.join(results_root, session_id)
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        link = os.path.join(results_root, "latest")
        tmp = f"{link}.{os.getpid()}"
        os.symlink(session_id, tmp)
        os.replace(tmp, link)
        return session_id, path
    raise RuntimeError(f"no free session id left for {today} in {results_root}")
