"""report.html: one self-contained page (inline CSS, no scripts, nothing fetched)."""

from __future__ import annotations

import json
from html import escape

from ducttape.runner.reports.summary import headline, when
from ducttape.runner.result import SessionInfo, TestResult

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } .meta { color: #555; }
table { border-collapse: collapse; margin-top: 1em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.PASS { background: #d9f2d9; } .FAIL { background: #f8d4d4; } .FLAKY { background: #fbeec2; }
pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
details summary { cursor: pointer; }
"""


def render(session: SessionInfo, results: list[TestResult]) -> str:
    rows = "\n".join(_row(r) for r in results)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ducttape {escape(session.session_id)}</title><style>{STYLE}</style></head>
<body>
<h1>ducttape session {escape(session.session_id)}</h1>
<p class="meta">cluster: {escape(session.cluster)} &middot; started {when(session.started)}
&middot; <span id="headline">{escape(headline(session, results))}</span></p>
<table id="tests">
<thead><tr><th>test</th><th>status</th><th>time</th><th>nodes</th><th>error / data</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def _row(r: TestResult) -> str:
    link = f'<a href="{escape(r.folder)}/">{escape(r.test_id)}</a>' if r.folder else escape(r.test_id)
    cell = ""
    if r.error:
        cell += f"<details><summary>{escape(r.error)}</summary><pre>{escape(r.details)}</pre></details>"
    if r.data is not None:
        cell += f"<pre>{escape(json.dumps(r.data, indent=1, default=str, sort_keys=True))}</pre>"
    return (f'<tr class="{escape(r.status)}"><td>{link}</td><td class="status">{escape(r.status)}</td>'
            f"<td>{r.duration:.1f}s</td><td>{escape(', '.join(r.nodes))}</td><td>{cell}</td></tr>")
