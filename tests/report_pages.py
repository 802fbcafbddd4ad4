"""What a person sees of report.html and results/index.html, asked of the page Chromium
rendered (tests/browser.py): boxes, sizes and what is cut."""

from __future__ import annotations

OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " " + e.getBoundingClientRect().right);
})()"""
"""Every element that reaches past the window's right edge."""

CUT_TEXT = """(() => {
  const cut = [];
  for (const chart of document.querySelectorAll(".trend")) {
    const title = chart.querySelector("h3"), box = chart.getBoundingClientRect();
    const t = title.getBoundingClientRect();
    if (title.scrollWidth > title.clientWidth + 1 || t.left < box.left || t.right > box.right + 0.5)
      cut.push("title " + title.textContent);
    const svg = chart.querySelector("svg").getBoundingClientRect();
    for (const text of chart.querySelectorAll("svg text")) {
      const r = text.getBoundingClientRect();
      if (r.width === 0 || r.left < svg.left - 0.5 || r.right > svg.right + 0.5 || r.top < svg.top - 0.5
          || r.bottom > svg.bottom + 0.5)
        cut.push("label " + text.textContent + " " + JSON.stringify([r.left, r.right, svg.left, svg.right]));
    }
  }
  return cut;
})()"""
"""Chart titles and SVG texts that are cut, clipped or outside their chart."""


def overflowing(browser) -> list[str]:
    return browser.evaluate(OVERFLOW)


def cut_chart_texts(browser) -> list[str]:
    return browser.evaluate(CUT_TEXT)


def figure_cells(browser) -> list[str]:
    """The full key of every figure shown in a table of the page."""
    return browser.evaluate(
        'Array.from(document.querySelectorAll("table.figures [data-figure]")).map(e => e.dataset.figure)')


def largest_figure_table(browser) -> int:
    """Rows (below the header) of the longest figure table."""
    return browser.evaluate('Math.max(0, ...Array.from(document.querySelectorAll("table.figures"))'
                            '.map(t => t.tBodies[0].rows.length))')
