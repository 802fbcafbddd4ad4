"""report.html: one self-contained page (inline CSS, no scripts, nothing fetched)."""

from __future__ import annotations

import base64
import json
import os
from html import escape

from ducttape.runner.reports.summary import headline, params_line, when
from ducttape.runner.result import SessionInfo, TestResult

COMPARISON_JSON, COMPARISON_PLOT = "comparison.json", "comparison.png"
"""Written into a session by ``invoke compare``; the report shows them when present."""

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } .meta { color: #555; }
table { border-collapse: collapse; margin-top: 1em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.PASS { background: #d9f2d9; } .FAIL { background: #f8d4d4; } .FLAKY { background: #fbeec2; }
pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
details summary { cursor: pointer; }
tr.flagged td { font-weight: bold; } img.plot { max-width: 100%; border: 1px solid #ccc; }
"""


def render(session: SessionInfo, results: list[TestResult]) -> str:
    rows = "\n".join(_row(r, session.path) for r in results)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ducttape {escape(session.session_id)}</title><style>{STYLE}</style></head>
<body>
<h1>ducttape session {escape(session.session_id)}</h1>
<p class="meta">cluster: {escape(session.cluster)} &middot; started {when(session.started)}
{f'&middot; params: {escape(params_line(session.params))}' if session.params else ''}
&middot; <span id="headline">{escape(headline(session, results))}</span></p>
<table id="tests">
<thead><tr><th>test</th><th>status</th><th>time</th><th>nodes</th><th>error / data</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{_comparison(session.path)}
</body></html>
"""


def _row(r: TestResult, session_dir: str) -> str:
    link = f'<a href="{escape(r.folder)}/">{escape(r.test_id)}</a>' if r.folder else escape(r.test_id)
    cell = ""
    if len(r.attempts) > 1:
        links = [f'<a href="{escape(r.folder)}/{escape(a["folder"])}/">attempt {n}: {escape(a["status"])}</a>'
                 for n, a in enumerate(r.attempts, 1)]
        cell += "<p>" + " &middot; ".join(links) + "</p>"
    if r.summary:
        cell += f'<pre class="summary">{escape(r.summary)}</pre>'
    if r.folder:  # every plot a test saved in its folder, embedded
        folder = os.path.join(session_dir, r.folder)
        cell += "".join(_img(os.path.join(folder, name), name) for name in sorted(os.listdir(folder))
                        if name.endswith(".png")) if os.path.isdir(folder) else ""
    if r.error:
        cell += f"<details><summary>{escape(r.error)}</summary><pre>{escape(r.details)}</pre></details>"
    if r.data is not None:
        cell += f"<pre>{escape(json.dumps(r.data, indent=1, default=str, sort_keys=True))}</pre>"
    return (f'<tr class="{escape(r.status)}"><td>{link}</td><td class="status">{escape(r.status)}</td>'
            f"<td>{r.duration:.1f}s</td><td>{escape(', '.join(r.nodes))}</td><td>{cell}</td></tr>")


def _comparison(folder: str) -> str:
    """The comparison section, with the plot embedded (the page stays one self-contained file)."""
    path = os.path.join(folder, COMPARISON_JSON)
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        doc = json.load(f)
    png = os.path.join(folder, COMPARISON_PLOT)
    img = _img(png, "relative change per figure") if os.path.exists(png) else ""

    rows = "\n".join(_comparison_row(r) for r in doc["rows"])
    return (f'<h2>Compared with {escape(doc["old"])}</h2><p class="meta">figures changed by more than '
            f'{doc["threshold_pct"]:g}% are in bold</p>{img}<table id="comparison"><thead><tr><th>test</th>'
            f"<th>figure</th><th>old</th><th>new</th><th>change</th></tr></thead><tbody>{rows}</tbody></table>")


def _img(png: str, alt: str) -> str:
    """A PNG file as an image embedded in the page."""
    with open(png, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return f'<p><img class="plot" alt="{escape(alt)}" src="data:image/png;base64,{data}"></p>'


def _comparison_row(r: dict) -> str:
    def num(v):
        return "" if v is None else f"{v:.6g}"

    figure = r["figure"] + (f" ({r['unit']})" if r["unit"] else "")
    change = "" if r["change_pct"] is None else f"{r['change_pct']:+.1f}%"
    return (f'<tr class="{"flagged" if r["flagged"] else ""}"><td>{escape(r["test_id"])}</td>'
            f"<td>{escape(figure)}</td><td>{num(r['old'])}</td><td>{num(r['new'])}</td>"
            f"<td>{change}</td></tr>")
