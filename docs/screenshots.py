"""Make the README's pictures from a real run: docs/images/{report,index,comparison}.png.

Runs 8 sessions of the sample_latency scenario on the localhost cluster (4 at the default
delay_ms=1, then 4 with the deliberate slowdown delay_ms=1.5) into a temporary results folder,
compares the two groups, rewrites the index (which finds the change point) and takes
screenshots of report.html and index.html (the first 1400x900 screenful of each) with headless
Chromium driven over DevTools (tests/browser.py; networking refused). ``--report SESSION`` takes
report.png of that session's report.html instead, e.g. of ``invoke test
native_vs_rest_performance``.

    .venv/bin/python docs/screenshots.py [--report results/latest]   # about a minute; needs chromium
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(REPO, "docs", "images")
SAME, SLOWER = 4, 4
WIDTH, HEIGHT = 1400, 900
sys.path.insert(0, os.path.join(REPO, "tests"))
from browser import Chromium  # noqa: E402  (the suite's DevTools driver)


def invoke(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode:
        sys.exit(f"invoke {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def screenshot(page: str, out: str, profile: str) -> None:
    """The first screenful of ``page`` as a PNG."""
    with Chromium(profile, width=WIDTH, height=HEIGHT) as browser:
        browser.open(f"file://{os.path.abspath(page)}")
        browser.screenshot(out, {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", help="a session folder whose report.html becomes report.png")
    args = parser.parse_args()
    os.makedirs(IMAGES, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ducttape-screens-") as tmp:
        results = os.path.join(tmp, "results")
        for i in range(SAME + SLOWER):
            invoke("test", "sample_latency", "--results-dir", results,
                   *(["--param", "delay_ms=1.5"] if i >= SAME else []))
        ids = sorted(d for d in os.listdir(results) if d.startswith("20"))
        print(invoke("compare", ",".join(ids[:SAME]), ",".join(ids[SAME:]), "--results-dir", results))
        print(invoke("history", "--results-dir", results))
        latest = os.path.join(results, ids[-1])
        report = args.report or latest
        screenshot(os.path.join(report, "report.html"), os.path.join(IMAGES, "report.png"),
                   os.path.join(tmp, "profile"))
        screenshot(os.path.join(results, "index.html"), os.path.join(IMAGES, "index.png"),
                   os.path.join(tmp, "profile"))
        shutil.copy(os.path.join(latest, "comparison.png"), os.path.join(IMAGES, "comparison.png"))
    print(f"written: {', '.join(sorted(os.listdir(IMAGES)))} in {IMAGES}")


if __name__ == "__main__":
    main()
