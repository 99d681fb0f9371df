"""Markdown written by coaches (landing intros, broadcasts) and staff (the privacy policy), rendered safely.

Python-Markdown turns it into HTML (raw HTML passes through, by design), then nh3 keeps an
allow-list only: text formatting, lists, quotes, code, headings from ``<h2>`` down, and
http(s)/mailto links with ``rel="nofollow noopener noreferrer ugc"``; no images, no
``style``/``class``, no scripts however obfuscated (docs/decisions.md).
"""

from __future__ import annotations

import html as html_lib
import xml.etree.ElementTree as ET

import markdown as markdown_lib
import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "sub",
        "sup",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed together with their content; other disallowed tags keep their text.
REMOVED_WITH_CONTENT = frozenset({"script", "style", "template", "textarea", "title", "noscript"})
LINK_REL = "nofollow noopener noreferrer ugc"
# Longer text than this is cut before rendering: a landing intro or a broadcast is short.
MAX_SOURCE_LENGTH = 50_000


class _DemoteHeadings(Treeprocessor):
    """The text's top heading level becomes h2, the others keep their distance below it."""

    def run(self, root: ET.Element) -> None:
        headings = [
            element
            for element in root.iter()
            if len(element.tag) == 2 and element.tag[0] == "h" and element.tag[1] in "123456"
        ]
        if not headings:
            return
        top = min(int(element.tag[1]) for element in headings)
        for element in headings:
            element.tag = f"h{min(int(element.tag[1]) - top + 2, 6)}"


class _DemoteHeadingsExtension(Extension):
    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.treeprocessors.register(_DemoteHeadings(md), "demote_headings", 5)


def _markdown_to_html(source: str) -> str:
    # A new converter per call: Markdown instances keep state and are not thread-safe.
    converter = markdown_lib.Markdown(
        extensions=["sane_lists", "nl2br", _DemoteHeadingsExtension()], output_format="html"
    )
    return converter.convert(source[:MAX_SOURCE_LENGTH])


def sanitize_html(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes of ``html``."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> SafeString:
    """Markdown in, sanitised HTML out, safe to put in a page or an email."""
    if not source or not source.strip():
        return mark_safe("")
    return mark_safe(sanitize_html(_markdown_to_html(source)))  # noqa: S308 - sanitised by nh3 just above


def markdown_to_text(source: str, *, limit: int | None = None) -> str:
    """The words of ``source`` without markup (for meta descriptions), optionally truncated."""
    text = " ".join(html_lib.unescape(strip_tags(render_markdown(source))).split())
    return Truncator(text).chars(limit) if limit else text
