"""User-supplied names (file names, notes, labels) shown as exactly that text, never as markup.

Why: a file called `[click me](https:evil.invalid).png` became a real link in a Markdown warning, and a
right-to-left override (U+202E) inside a name reversed the rest of the message. Every name shown by
the app or written into a report goes through `plain_name` (HTML and plain text; escape HTML after) or
`md_name` (Markdown). Both keep the name's characters recognisable: bidi and other control characters
are shown as `<U+202E>`-style tags, and the whole name is wrapped in a first-strong isolate
(U+2068 ... U+2069), so neither the name nor its neighbours can reorder the other.
"""

from __future__ import annotations

import re
import string
import unicodedata

FSI, PDI = "\u2068", "\u2069"
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")


def _visible(ch: str) -> str:
    if ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
        return f"<U+{ord(ch):04X}>"
    return ch


def visible_text(text: str) -> str:
    """Control, format and bidi characters as `<U+XXXX>`; everything else unchanged."""
    return "".join(_visible(ch) for ch in str(text))


def plain_name(name: str) -> str:
    """A name for plain text or HTML (escape HTML afterwards): visible controls, wrapped in a bidi isolate."""
    return f"{FSI}{visible_text(name)}{PDI}"


def md_escape(text: str) -> str:
    """Backslash-escape every ASCII punctuation character, so no Markdown (links, emphasis, `:colour[]`,
    `$math$`, HTML) is formed; CommonMark renders a backslash-escaped punctuation character literally."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def md_name(name: str) -> str:
    """A name for Markdown (Streamlit messages, Markdown reports): escaped and bidi-isolated."""
    return f"{FSI}{md_escape(visible_text(name))}{PDI}"


def md_names(names: list[str] | tuple[str, ...], limit: int = 5) -> str:
    """Up to `limit` names for a message, then 'and N more' (500 names never make a 6,000-character line)."""
    shown = ", ".join(md_name(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def terminal_text(text: str) -> str:
    """Text for a terminal: control characters (escape sequences that clear the screen or set the title),
    format and bidi characters shown as `<U+XXXX>`; newlines and tabs kept."""
    return "".join(ch if ch in "\n\t" else _visible(ch) for ch in str(text))
