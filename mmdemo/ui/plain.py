"""Show untrusted text (captions, file names, metadata) on the page as text, never markup.

Markdown cannot do this reliably: gradio's renderer turns any URL into a link whatever is
escaped around it. Untrusted text therefore goes into HTML components, escaped here.
"""

import html


def plain(text: object) -> str:
    """``text`` as an HTML fragment that shows exactly as typed: no tag, link or script."""
    return html.escape(str(text), quote=True)
