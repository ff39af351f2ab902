"""Markdown written by users becomes HTML only through here, so every path gets the same sanitiser."""

import threading

import markdown as _markdown
import nh3

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


_local = threading.local()


def _converter() -> _markdown.Markdown:
    # Building a Markdown instance (loading its extensions) costs more than converting a message; each thread
    # keeps one, since instances are not thread-safe, and resets it between documents.
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = _markdown.Markdown(extensions=["extra", "sane_lists"])
    return converter


def markdown_to_safe_html(text: str) -> str:
    converter = _converter()
    try:
        return sanitize_html(converter.convert(text or ""))
    finally:
        converter.reset()
