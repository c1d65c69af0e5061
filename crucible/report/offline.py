"""The single-file report loads nothing from outside itself: no analytics, no web fonts, no CDN.

Allure 3.18 writes a Google Analytics tag into every report; the reviewed patch in
``node/patches`` removes it when the tool is installed. This check reads every report Crucible
writes, so a report that would call a third party when it is opened (after an upgrade of the
tool, or a patch that no longer applies) is refused instead of forwarded. It reads the page's
own markup and its inlined styles; what the bundled script may fetch at run time is checked by
opening the page in Chromium with network logging (tests/test_report_offline.py).
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from crucible.errors import ReportError

# Attributes that make a browser fetch something, by tag.
LOADING = {
    "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "frame": ("src",), "embed": ("src",),
    "object": ("data",), "source": ("src", "srcset"), "audio": ("src",), "video": ("src", "poster"),
    "track": ("src",), "input": ("src",), "image": ("href", "xlink:href"), "use": ("href", "xlink:href"),
}
# <link rel=...> values that load what href names (canonical or alternate links load nothing).
LOADING_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "prefetch", "preconnect",
                "dns-prefetch", "modulepreload", "manifest", "mask-icon"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)""", re.IGNORECASE)
DATA_CSS = re.compile(r"^data:text/css(;[^,]*)?,", re.IGNORECASE)


def is_external(url: str) -> bool:
    """True if a browser would fetch ``url`` from the network: http(s), ws(s), ftp, or a scheme-relative //host."""
    url = url.strip().lower()
    return url.startswith(("http:", "https:", "ws:", "wss:", "ftp:", "//"))


class _Loads(HTMLParser):
    """Collects what a page's markup makes the browser load: URLs of loading attributes, and inlined CSS."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = {name.lower(): value or "" for name, value in attrs}
        names = LOADING.get(tag, ())
        if tag == "link" and LOADING_RELS & set(values.get("rel", "").lower().split()):
            names = ("href",)
        for name in names:
            if name == "srcset":  # "a.png 1x, b.png 2x"
                self.urls.extend(part.split()[0] for part in values.get(name, "").split(",") if part.strip())
            elif name in values:
                self.urls.append(values[name])
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.urls.append(values.get("content", "").partition("=")[2])
        if "style" in values:
            self.styles.append(values["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _inlined_css(url: str) -> str:
    """The text of a data:text/css URL ('' for any other URL)."""
    found = DATA_CSS.match(url)
    if not found:
        return ""
    payload = url[found.end():]
    if ";base64" in (found.group(1) or "").lower():
        return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "replace")
    return unquote(payload)


def external_loads(html: str) -> list[str]:
    """Every external URL the page's markup or its styles (also those inlined as data: URLs) would load."""
    parser = _Loads()
    parser.feed(html)
    parser.close()
    styles = parser.styles + [_inlined_css(url) for url in parser.urls]
    css_urls = [url for css in styles for pattern in (CSS_URL, CSS_IMPORT) for url in pattern.findall(css)]
    return sorted({url for url in parser.urls + css_urls if is_external(url)})


def check(index: Path) -> None:
    """Remove a report whose page would load anything from outside the file, with a ReportError naming what."""
    found = external_loads(index.read_text(encoding="utf-8", errors="replace"))
    if found:
        index.unlink()
        raise ReportError(
            f"The report was removed: it would load {len(found)} thing(s) from outside the file when opened: "
            f"{', '.join(url[:120] for url in found[:5])}. A report forwarded outside the team must call no one: "
            f"the Allure tool's patches no longer apply (run `crucible setup` again and check "
            f"crucible/report/node/patches) or the report configuration adds an external resource.")
