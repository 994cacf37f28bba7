"""OUTDIR/report.html: the compile report as a page (see page.py)."""

from mnv3c.report.page import HTML_NAME, render_report_html, write_report_html

__all__ = ["HTML_NAME", "render_report_html", "write_report_html"]
