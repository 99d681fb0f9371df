"""Markdown from coaches and staff is rendered, and nothing in it can run a script."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from common.markdown import markdown_to_text, render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1))",
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="java\tscript:alert(1)">click</a>',
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="position:fixed;inset:0">cover</div>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example"><button>Go</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<body onload="alert(1)">',
    '<details open ontoggle="alert(1)">x</details>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<input autofocus onfocus="alert(1)">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>body{display:none}</style>",
    "[x](vbscript:msgbox(1))",
    '<a href="https://ok.example" target="_blank" rel="opener">ok</a>',
    "<!--<script>alert(1)</script>-->",
    "`<script>alert(1)</script>`",
]

SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {"href", "title", "rel"}


class _Elements(HTMLParser):
    """Every element and attribute of a fragment, as an HTML parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.found.append(("!--", []))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_it_strips_every_way_to_run_a_script(payload: str) -> None:
    """Whatever the payload, only harmless elements remain: no script, handler, style, frame or bad URL."""
    html = render_markdown(f"Hello\n\n{payload}\n\nBye")
    for tag, attrs in elements(html):
        assert tag in SAFE_TAGS, (payload, html)
        for name, value in attrs:
            assert name in SAFE_ATTRIBUTES, (payload, html)
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in {"", "http", "https", "mailto"}, (payload, html)
    lowered = html.lower()
    for needle in ("<script", "<svg", "<iframe", "<style", "javascript:", "data:", "style="):
        assert needle not in lowered, (payload, html)
    # The text around it survives (an unclosed tag may swallow what follows it, harmlessly).
    assert "Hello" in html


def test_it_keeps_ordinary_formatting_and_safe_links() -> None:
    html = render_markdown(
        "Some **bold**, *italic* and a [link](https://example.com/page?a=1&b=2).\n\n"
        "- one\n- two\n\n> a quote\n\n[mail me](mailto:ada@example.com)"
    )
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert (
        '<a href="https://example.com/page?a=1&amp;b=2" rel="nofollow noopener noreferrer ugc">link</a>'
        in html
    )
    assert "<li>one</li>" in html
    assert "<blockquote>" in html
    assert 'href="mailto:ada@example.com"' in html


def test_it_renumbers_headings_from_h2_so_the_page_keeps_one_h1() -> None:
    html = render_markdown("# Title\n\n## Part\n\ntext")
    assert "<h1" not in html
    assert "<h2>Title</h2>" in html
    assert "<h3>Part</h3>" in html
    assert render_markdown("### Deep\n\n#### Deeper") == "<h2>Deep</h2>\n<h3>Deeper</h3>"


def test_it_shows_code_as_text() -> None:
    html = render_markdown("Use `<b>` for bold.")
    assert "<code>&lt;b&gt;</code>" in html


def test_it_renders_nothing_for_blank_text() -> None:
    assert render_markdown("") == ""
    assert render_markdown("  \n ") == ""


def test_it_gives_plain_text_for_descriptions() -> None:
    assert markdown_to_text("## Tips & **tools**\n\nfor you") == "Tips & tools for you"
    assert markdown_to_text("word " * 100, limit=20).endswith("…")
