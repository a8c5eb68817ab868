"""Markdown to sanitized HTML (python-markdown, then the nh3/ammonia sanitizer).

`render(text)` is what every page uses for text it did not write itself (news bodies, the
docs, descriptions): raw HTML inside the markdown survives only as far as the allow-list
below lets it (no <script>, no event handlers, no style, no javascript: URLs).

`render(text, link=fn, anchor_prefix="doc-")` is the docs sidebar's variant: `fn(href)`
may rewrite a relative link (`flows.md#labels`) into a page URL, returned as `(url, True)`
when the link stays inside the sidebar (it gets `hx-boost`), and heading ids get a prefix so
they never collide with the page's own ids (`#main`, `#sidebar`...).
"""
from __future__ import annotations

import re
from typing import Callable
from xml.etree.ElementTree import Element

import markdown as md
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as _slugify
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

LinkRewriter = Callable[[str], "tuple[str, bool] | None"]

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p",
    "pre", "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ATTRIBUTES = {
    "a": {"href", "title", "target", "hx-boost"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    **{tag: {"id"} for tag in HEADINGS},
}
URL_SCHEMES = {"http", "https", "mailto"}
_CODE_CLASS = re.compile(r"^language-[A-Za-z0-9_+-]{1,32}$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,100}$")
_EXTERNAL = re.compile(r"^(https?:|mailto:|//)", re.IGNORECASE)


def render(text: str | None, *, link: LinkRewriter | None = None,
           anchor_prefix: str | None = None) -> Markup:
    """`text` (markdown, raw HTML allowed) as safe HTML."""
    if not text:
        return Markup("")
    converter = md.Markdown(extensions=_extensions(link, anchor_prefix), output_format="html")
    html = converter.convert(text)
    return Markup(sanitize(html, ids=anchor_prefix))


def sanitize(html: str, *, ids: str | None = None) -> str:
    """Keep only the allow-listed tags/attributes; heading ids only when they carry the
    `ids` prefix; `target` only `_blank`; `hx-boost` only `true`."""
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "class":
            return value if _CODE_CLASS.match(value) else None
        if attribute == "id":
            return value if ids and value.startswith(ids) and _ID.match(value) else None
        if attribute == "target":
            return "_blank" if value == "_blank" else None
        if attribute == "hx-boost":
            return "true" if value == "true" else None
        return value

    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", attribute_filter=keep,
                     strip_comments=True)


# -- python-markdown extensions -----------------------------------------------------------
def _extensions(link: LinkRewriter | None, anchor_prefix: str | None) -> list:
    extensions: list = ["fenced_code", "tables", "sane_lists", _Links(link, anchor_prefix)]
    if anchor_prefix:
        extensions.append(TocExtension(
            slugify=lambda value, separator: anchor_prefix + _slugify(value, separator),
            toc_depth="1-4"))
    return extensions


class _Links(Extension):
    """Rewrites links: external ones open in a new tab; `link()` maps relative ones."""

    def __init__(self, link: LinkRewriter | None, anchor_prefix: str | None):
        super().__init__()
        self.link = link
        self.anchor_prefix = anchor_prefix

    def extendMarkdown(self, markdown: md.Markdown) -> None:  # noqa: N802 - markdown's API
        markdown.treeprocessors.register(_LinkProcessor(markdown, self), "kl_links", 5)


class _LinkProcessor(Treeprocessor):
    def __init__(self, markdown: md.Markdown, extension: _Links):
        super().__init__(markdown)
        self.extension = extension

    def run(self, root: Element) -> None:
        for anchor in root.iter("a"):
            href = anchor.get("href", "")
            if _EXTERNAL.match(href):
                anchor.set("target", "_blank")
            elif href.startswith("#"):
                if self.extension.anchor_prefix:
                    anchor.set("href", "#" + self.extension.anchor_prefix + href[1:])
            elif self.extension.link is not None:
                rewritten = self.extension.link(href)
                if rewritten is not None:
                    url, inside = rewritten
                    anchor.set("href", url)
                    if inside:
                        anchor.set("hx-boost", "true")
