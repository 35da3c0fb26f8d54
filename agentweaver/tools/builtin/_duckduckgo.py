"""Results out of DuckDuckGo's HTML search page (``html.duckduckgo.com/html/``), stdlib only.

The page has no API contract, so the parser holds on to the few stable hooks: result links are
``a.result__a``, snippets ``.result__snippet``, and links go through DuckDuckGo's
``/l/?uddg=<encoded url>`` redirect, which is unwrapped so the model sees the real address.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

__all__ = ["DuckDuckGoPage"]


def _unwrap(href: str) -> str:
    """DuckDuckGo's ``//duckduckgo.com/l/?uddg=<encoded url>`` redirect, as the real URL.

    Any other link to DuckDuckGo itself (ads go through ``/y.js``) is not a result: "".
    """
    url = urljoin("https://duckduckgo.com/", href)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "duckduckgo.com" or host.endswith(".duckduckgo.com"):
        target = parse_qs(parts.query).get("uddg") if parts.path == "/l/" else None
        return target[0] if target else ""
    return url


class DuckDuckGoPage(HTMLParser):
    """Collect ``a.result__a`` (title, link) and the ``.result__snippet`` that follows it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.results: list[dict[str, str]] = []
        self._field = ""  # "title" or "snippet" while inside one
        self._tag = ""
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._field:
            self._depth += tag == self._tag
            if tag in ("br", "p", "div", "li"):
                self._text.append(" ")
            return
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "a" and "result__a" in classes:
            self.results.append({"url": _unwrap(values.get("href") or ""), "snippet": ""})
            self._start("title", tag)
        elif "result__snippet" in classes and self.results:
            self._start("snippet", tag)

    def _start(self, field: str, tag: str) -> None:
        self._field, self._tag, self._depth, self._text = field, tag, 1, []

    def handle_endtag(self, tag: str) -> None:
        if not self._field or tag != self._tag:
            return
        self._depth -= 1
        if self._depth == 0:
            self.results[-1][self._field] = " ".join("".join(self._text).split())
            self._field = ""

    def handle_data(self, data: str) -> None:
        if self._field:
            self._text.append(data)
