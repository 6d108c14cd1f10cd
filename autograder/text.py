"""Text a student controls, made safe for where it is shown: terminals, markdown, HTML, JSON.

What a student's code printed, the messages of the exceptions it raised, the source lines and file
names quoted in feedback: all of it is the student's to shape. A terminal obeys escape sequences in
it (colours, clearing the screen, OSC-8 hyperlinks, rewriting the window title), and Gradescope's
markdown turns it into headings, links and raw HTML. The writers pass every such string through
one of these functions; HTML escaping itself stays with Jinja2's autoescape.
"""

from __future__ import annotations

import re
from typing import Any

# Escape sequences are removed whole, not only their ESC: a terminal that never sees the ESC shows
# the rest as text, but an OSC-8 link's address or a window title would still clutter the output.
_TERMINAL_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    # OSC (hyperlinks, window titles), DCS, SOS, PM and APC strings, up to their terminator. The
    # payload stops at any ESC, as terminals do, which also keeps the search linear in the text.
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"  # the other escape sequences: character sets, keypad modes, resets
)
_SURROGATE = re.compile("[\ud800-\udfff]")  # what os.fsdecode makes of a non-UTF-8 file name

# Removed after the sequences: C0 controls but tab and newline, DEL, C1 controls, and the
# bidirectional controls that reorder what a reader sees ("Trojan Source", CVE-2021-42574).
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = dict.fromkeys(
    [c for c in range(0x20) if chr(c) not in "\t\n"] + list(range(0x7f, 0xa0)) + [ord(c) for c in _BIDI_CONTROLS])

# CommonMark lets a backslash escape any ASCII punctuation character, and an escaped one is always
# literal text: no heading, list, emphasis, link, image, raw HTML, entity, table or fence starts from it,
# and with ":", "." and "@" escaped, GitHub-style bare links (www.x.com, http://x, a@b.c) are not found.
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Whitespace at either end of a paragraph is dropped, and four leading spaces would start code.
_OUTER_WHITESPACE = re.compile(r"^\s+|\s+$")
_BACKTICK_RUN = re.compile("`+")


def printable(text: str) -> str:
    """`text` without anything a terminal would obey or hide: no control characters but tab and
    newline, no escape sequences, no bidi overrides; lone surrogates become U+FFFD.

    A carriage return becomes a newline rather than vanishing, so that a line printed over another
    (`"full marks\\r"`) shows both. Idempotent, and ordinary text comes back unchanged.
    """
    text = _TERMINAL_SEQUENCE.sub("", _SURROGATE.sub("\ufffd", text))
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)


def markdown_text(text: str) -> str:
    """`text` as markdown that renders to exactly `printable(text)` in one paragraph of plain text.

    Every ASCII punctuation character is backslash-escaped, and newlines and the whitespace at either
    end become character references, so the result stays on one line: it can follow a list marker
    or a bold label without closing them, and nothing in it starts a block of its own.
    """
    escaped = _ASCII_PUNCTUATION.sub(r"\\\1", printable(text)).replace("\n", "&#10;")
    return _OUTER_WHITESPACE.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), escaped)


def markdown_code_block(text: str) -> str:
    """`printable(text)` as a fenced code block that nothing inside it can close.

    A fence closes only on a run of backticks at least as long as the opening one, so the fence is
    one backtick longer than the longest run in the text (and at least three).
    """
    text = printable(text)
    fence = "`" * max(3, 1 + max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0))
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}\n{body}{fence}"


def printable_data(data: Any) -> Any:
    """JSON-like data (dicts, lists, strings, numbers) with `printable` applied to every string."""
    if isinstance(data, str):
        return printable(data)
    if isinstance(data, dict):
        return {printable_data(k): printable_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [printable_data(v) for v in data]
    return data
