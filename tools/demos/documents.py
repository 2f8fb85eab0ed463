"""The documents demo: report pages as PDFs, with charts, tables and a real text layer.

Pages are drawn with matplotlib (requirements-dev.txt) on A4 and saved with PdfPages;
text is embedded as TrueType (``pdf.fonttype`` 42), so pypdfium2 reads each page's title
and paragraph back at index time and they become the page's caption. No creation date is
written, so the same matplotlib gives the same bytes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from tools.demos.common import clear, write_captions, write_sources
from tools.demos.reports import REPORTS, Page, Report

A4 = (8.27, 11.69)
COLOURS = ("#2f6db3", "#e07b39", "#3a9e6f", "#b8456b", "#7d5fb2", "#c9a227")
CHART_NAMES = {
    "bar": "bar chart",
    "barh": "horizontal bar chart",
    "line": "line chart",
    "pie": "pie chart",
    "scatter": "scatter plot",
    "stacked": "stacked bar chart",
}
STYLE: Any = {"pdf.fonttype": 42, "font.family": "DejaVu Sans", "font.size": 10}


def _chart(figure: Figure, page: Page) -> None:
    axes = figure.add_axes((0.12, 0.45, 0.78, 0.33))
    values = list(page.series.values())
    if page.chart == "pie":
        axes.pie(values[0], labels=page.labels, colors=COLOURS, autopct="%1.0f%%", startangle=90)
        axes.axis("equal")
    elif page.chart == "line":
        for (name, series), colour in zip(page.series.items(), COLOURS, strict=False):
            axes.plot(page.labels, series, marker="o", color=colour, label=name)
        if len(values) > 1:
            axes.legend()
    elif page.chart == "scatter":
        axes.scatter(values[0], values[1], color=COLOURS[0])
        x_name, y_name = list(page.series)
        axes.set_xlabel(x_name)
        axes.set_ylabel(y_name)
    elif page.chart == "barh":
        axes.barh(page.labels[::-1], values[0][::-1], color=COLOURS[0])
    elif page.chart == "stacked":
        bottom = [0.0] * len(page.labels)
        for (name, series), colour in zip(page.series.items(), COLOURS, strict=False):
            axes.bar(page.labels, series, bottom=bottom, color=colour, label=name)
            bottom = [b + s for b, s in zip(bottom, series, strict=True)]
        axes.legend()
    else:
        axes.bar(page.labels, values[0], color=COLOURS[: len(page.labels)])
    axes.set_title(page.chart_title, fontsize=11)
    if page.chart not in ("pie", "barh"):
        axes.tick_params(axis="x", labelrotation=30 if len(page.labels) > 6 else 0)


def _page(report: Report, page: Page, number: int) -> Figure:
    """One A4 page. Its texts go first in the text layer (they are drawn before the axes,
    zorder -1), so a page's caption starts with its title and paragraph."""
    figure = plt.figure(figsize=A4)
    figure.text(0.08, 0.94, page.title, fontsize=18, weight="bold", zorder=-1)
    subtitle = f"{report.title}, page {number}"
    figure.text(0.08, 0.915, subtitle, fontsize=10, color="#555555", zorder=-1)
    paragraph = "\n".join(textwrap.wrap(page.text, 92))
    figure.text(0.08, 0.885, paragraph, fontsize=10, va="top", linespacing=1.5, zorder=-1)
    _chart(figure, page)
    table_axes = figure.add_axes((0.08, 0.1, 0.84, 0.26))
    table_axes.axis("off")
    table = table_axes.table(
        cellText=[list(row) for row in page.rows], colLabels=list(page.columns), loc="upper center"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1, 1.5)
    return figure


def build(out: Path, cache: Path) -> list[str]:
    """Write the report PDFs, captions.csv (metadata per page) and SOURCES into ``out``."""
    del cache  # nothing to fetch: the pages are drawn here
    clear(out, ["*.pdf"])
    rows = []
    with plt.rc_context(STYLE):
        for report in REPORTS:
            with PdfPages(out / report.file_name, metadata={"CreationDate": None}) as pdf:
                for number, page in enumerate(report.pages, start=1):
                    figure = _page(report, page, number)
                    pdf.savefig(figure)
                    plt.close(figure)
                    name = f"{report.file_name} p. {number}"
                    rows.append((name, report.title, page.title, CHART_NAMES[page.chart]))
    columns = ("file_name", "report", "title", "chart")
    write_captions(out / "captions.csv", columns, rows)
    lines = [f"{r.file_name}: {len(r.pages)} pages, drawn by this builder" for r in REPORTS]
    write_sources(out / "SOURCES", INTRO.format(pages=len(rows), reports=len(REPORTS)), lines)
    return lines


INTRO = """
The documents demo: {pages} report pages in {reports} PDFs, each page with a title, a
paragraph, a chart and a table. Every company, figure and name is invented. Drawn by
`python -m tools.build_demos documents` with matplotlib (PSF-based matplotlib licence;
its DejaVu Sans font is under the Bitstream Vera licence and embedded as TrueType); the
pages are original work of this project, under the project's own terms.

captions.csv names each page as results do ("report.pdf p. 2") with its report, title and
chart kind. It has no caption column on purpose: a page's caption is its own text layer
(title first, then the paragraph and the table), read by pypdfium2 when it is indexed.
"""
