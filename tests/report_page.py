"""The single-file report as a reader gets it: the files it embeds, and the page in headless Chromium.

Shared by tests/test_report.py, tests/test_browser.py and tests/test_report_e2e.py. Chromium is
Debian's ``chromium`` package (``make unit`` / ``make test`` install it as root on Debian); tests
that need it carry ``needs_chromium``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crucible.report.safety import embedded_files  # noqa: F401  (the tests' way to read a report)

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]
# Virtual time the page gets to render before its DOM is read; a busy machine can still fall short,
# so a dump that lacks the element it must show is taken again with more.
BUDGETS_MS = (10000, 30000, 60000)
TIMEOUT_S = 120

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's chromium is not installed: run make unit (as root it installs it)")


def chromium(page: Path, profile: Path, *args: str, route: str = "",
             budget_ms: int = BUDGETS_MS[0]) -> subprocess.CompletedProcess:
    """Run headless Chromium once on a file (at a route of the report, e.g. ``#/charts``), fresh profile."""
    command = ["chromium", *FLAGS, f"--virtual-time-budget={budget_ms}", f"--user-data-dir={profile}", *args,
               page.as_uri() + route]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)


# Every host name resolves to nothing, on this machine: a request the page makes is logged and fails at once,
# and no packet leaves for any other address.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"
LOCAL_SCHEMES = ("file:", "data:")


def netlog_requests(log: Path) -> list[dict]:
    """The URL requests Chromium's NetLog recorded that the page made (not Chromium's own, e.g. its clock or
    account checks): each as {"url", "initiator", "isolation"}."""
    text = log.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:  # a log cut short ends without its closing brackets
        data = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in data["events"]:
        params = event.get("params") or {}
        if event.get("type") != start_job or "url" not in params:
            continue
        initiator, isolation = params.get("initiator", ""), params.get("network_isolation_key", "")
        if initiator != "not an origin" or "file://" in isolation:  # made on behalf of a document
            found.append({"url": params["url"], "initiator": initiator, "isolation": isolation})
    return found


def open_logged(page: Path, profile: Path, ready: str = "") -> tuple["Node", list[dict]]:
    """Open the page as a reader does, offline, with network logging: its DOM (with ``ready`` shown, as
    :func:`dump_dom`) and every request it made, of any scheme."""
    for attempt, budget in enumerate(BUDGETS_MS):
        log = profile / f"net-{attempt}.json"
        proc = chromium(page, profile / str(attempt), "--window-size=1280,900", "--dump-dom", f"--log-net-log={log}",
                        "--net-log-capture-mode=Default", OFFLINE, budget_ms=budget)
        assert proc.returncode == 0, proc.stderr[-2000:]
        dom = parse(proc.stdout)
        if not ready or any(node.testid.startswith(ready) for node in dom.walk()):
            break
    return dom, netlog_requests(log)


def outside_the_file(requests: list[dict]) -> list[str]:
    """The URLs among a page's requests that are neither file:// nor data:."""
    return [request["url"] for request in requests if not request["url"].startswith(LOCAL_SCHEMES)]


def dump_dom(page: Path, profile: Path, route: str = "", ready: str = "") -> "Node":
    """The page's DOM after its scripts ran, as a tree; with ``ready`` (a data-testid prefix or a span's
    text), taken again with more virtual time until that element shows."""
    for attempt, budget in enumerate(BUDGETS_MS):
        proc = chromium(page, profile / str(attempt), "--window-size=1280,900", "--dump-dom", route=route,
                        budget_ms=budget)
        assert proc.returncode == 0, proc.stderr[-2000:]
        dom = parse(proc.stdout)
        if not ready or any(node.testid.startswith(ready) or (node.tag == "span" and node.text() == ready)
                            for node in dom.walk()):
            return dom
    return dom


class Node:
    """One element of a dumped DOM: tag, attributes, children and text, enough to query by data-testid."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: "Node | None" = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def testid(self) -> str:
        return self.attrs.get("data-testid") or ""

    def text(self) -> str:
        """The element's text with whitespace collapsed."""
        parts: list[str] = []
        stack: list[Node | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            else:
                stack.extend(reversed(item.children))
        return " ".join(" ".join(parts).split())

    def walk(self):
        """This element and every element inside it, in document order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([child for child in node.children if isinstance(child, Node)]))

    def all(self, testid: str) -> list["Node"]:
        """Every element inside with this data-testid, in document order."""
        return [node for node in self.walk() if node.testid == testid]

    def ancestor(self, predicate) -> "Node | None":
        """The nearest enclosing element for which predicate(node) holds."""
        node = self.parent
        while node is not None and not predicate(node):
            node = node.parent
        return node


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_NOT_TEXT = {"script", "style", "title"}


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = self.current = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {name: value or "" for name, value in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        if self.current.tag not in _NOT_TEXT:  # the bundled code and styles are no text a reader sees
            self.current.children.append(data)


def parse(html: str) -> Node:
    """Parse serialised HTML (as ``chromium --dump-dom`` prints it) into a Node tree."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def front_page_counts(dom: Node) -> dict[str, str]:
    """The summary counters of the front page (data-testid="metadata-item-<status>"): status -> number shown."""
    counts = {}
    for node in dom.walk():
        name = node.testid.removeprefix("metadata-item-")
        if node.testid.startswith("metadata-item-") and name not in ("key", "value"):
            words = node.text().split()
            counts[name] = words[-1] if words else ""
    return counts
