"""report.json: everything report.html shows, for programs."""

from __future__ import annotations

import json



def render(view: dict) -> str:
    """report.json of a session's view (``view.session_view``)."""
    return json.dumps(view, indent=2, default=str) + "\n"
