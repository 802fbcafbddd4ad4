"""report.json: everything report.html shows, for programs."""

from __future__ import annotations

import json

_TESTS = "\0tests\0"


def render(view: dict, texts: dict | None = None) -> str:
    """report.json of a session's view (``view.session_view``), as ``json.dumps(view, indent=2)``.
    ``texts`` keeps each test's part between calls (by its entry, which must not change once
    given here): a running session rewrites the file every few seconds."""
    texts = {} if texts is None else texts
    parts = []
    for test in view["tests"]:
        kept = texts.get(id(test))
        if kept is None or kept[0] is not test:
            text = json.dumps(test, indent=2, default=str).replace("\n", "\n    ")
            kept = texts[id(test)] = (test, f"    {text}")
        parts.append(kept[1])
    tests = "[\n" + ",\n".join(parts) + "\n  ]" if parts else "[]"
    head = json.dumps({**view, "tests": _TESTS}, indent=2, default=str)
    return head.replace(json.dumps(_TESTS), tests, 1) + "\n"
