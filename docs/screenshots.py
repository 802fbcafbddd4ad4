"""Make the README's pictures from a real run: docs/images/{report,index,comparison,trend}.png.

Runs 8 sessions of the sample_latency scenario on the localhost cluster (4 at the default
delay_ms=1, then 4 with the deliberate slowdown delay_ms=1.5) into a temporary results folder,
compares the two groups, rewrites the index (which finds the change point) and takes
screenshots of report.html and index.html with headless Chromium (networking refused).

    python3 docs/screenshots.py      # about a minute; needs chromium
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(REPO, "docs", "images")
SAME, SLOWER = 4, 4


def invoke(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode:
        sys.exit(f"invoke {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def screenshot(page: str, out: str, size: str, profile: str) -> None:
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--hide-scrollbars",
                    f"--window-size={size}", f"--screenshot={out}", f"file://{page}"],
                   check=True, capture_output=True, timeout=120)


def main() -> None:
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
        screenshot(os.path.join(latest, "report.html"), os.path.join(IMAGES, "report.png"), "1200,1650",
                   os.path.join(tmp, "profile"))
        screenshot(os.path.join(results, "index.html"), os.path.join(IMAGES, "index.png"), "1400,900",
                   os.path.join(tmp, "profile"))
        shutil.copy(os.path.join(latest, "comparison.png"), os.path.join(IMAGES, "comparison.png"))
        trend = next(n for n in sorted(os.listdir(os.path.join(results, "trends"))) if "latency_median" in n)
        shutil.copy(os.path.join(results, "trends", trend), os.path.join(IMAGES, "trend.png"))
    print(f"written: {', '.join(sorted(os.listdir(IMAGES)))} in {IMAGES}")


if __name__ == "__main__":
    main()
