"""What a markdown output becomes when rendered: its elements, and the text a reader sees.

markdown-it-py stands in for Gradescope's renderer: CommonMark with raw HTML on, plus GitHub's
tables, strikethrough and bare links (`www.example.com`, `http://...`) made into links.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

RENDERER = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])


def tokens(markdown: str) -> list[Token]:
    """Every token, the inline ones of each paragraph included, in document order."""
    return [t for block in RENDERER.parse(markdown) for t in [block, *(block.children or [])]]


def elements(markdown: str) -> list[str]:
    return [t.type for t in tokens(markdown)]


def shown_text(markdown: str) -> str:
    """The text a reader sees, line breaks as newlines, blocks run together."""
    return "".join("\n" if t.type in ("softbreak", "hardbreak") else t.content
                   for t in tokens(markdown) if t.type in ("text", "code_inline", "fence", "softbreak", "hardbreak"))
