"""Show untrusted text (captions, file names, metadata) inside Markdown as text, never markup."""

import html
import re

#: Every character Markdown may read as syntax; a backslash makes it literal.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def plain(text: object) -> str:
    """``text`` escaped for a Markdown component: HTML tags and Markdown syntax show as typed.

    Angle brackets and ampersands become entities (no tag, image or form can be planted),
    then Markdown punctuation is backslash-escaped (no link, image or emphasis either).
    """
    return _MARKDOWN.sub(r"\\\1", html.escape(str(text), quote=False))
