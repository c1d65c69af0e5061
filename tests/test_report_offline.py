"""The report loads nothing from outside its file: the check every generated report goes through."""

from __future__ import annotations

import base64

import pytest

from crucible.errors import ReportError
from crucible.report import offline


def css_link(css: str) -> str:
    """A <link> to a stylesheet inlined as a base64 data: URL, as the single-file report inlines its styles."""
    return f'<link rel="stylesheet" href="data:text/css;base64,{base64.b64encode(css.encode()).decode()}">'


def test_a_self_contained_page_loads_nothing_from_outside():
    html = (f'<html><head>{css_link("@font-face{src:url(data:font/woff2;base64,AAAA)}")}'
            '<link rel="canonical" href="https://allurereport.org/"><script src="data:text/javascript;base64,MQ=="></script>'
            '</head><body><a href="https://tracker.example/SHOP-1">SHOP-1</a><img src="attachments/a.png"></body></html>')

    assert offline.external_loads(html) == []


def test_analytics_fonts_and_cdn_loads_are_named():
    html = ('<html><head><script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
            '<link rel="preconnect" href="https://fonts.gstatic.com">'
            + css_link("@import 'https://fonts.googleapis.com/css2?family=PT';") +
            '<style>body{background:url("//cdn.example.com/bg.png")}</style></head>'
            '<body><img srcset="a.png 1x, https://cdn.example.com/b.png 2x"><div style="background:url(http://x.example/y)">'
            '</div></body></html>')

    assert offline.external_loads(html) == [
        "//cdn.example.com/bg.png", "http://x.example/y", "https://cdn.example.com/b.png",
        "https://fonts.googleapis.com/css2?family=PT", "https://fonts.gstatic.com",
        "https://www.googletagmanager.com/gtag/js?id=G-1"]


def test_a_report_that_calls_out_is_removed_with_the_reason(tmp_path):
    index = tmp_path / "index.html"
    index.write_text('<html><body><script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script></body></html>')

    with pytest.raises(ReportError, match="googletagmanager.com") as failure:
        offline.check(index)

    assert "removed" in str(failure.value) and "patches" in str(failure.value)
    assert not index.exists()
