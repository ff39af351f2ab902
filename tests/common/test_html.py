"""User Markdown becomes HTML only through one sanitiser: no scripts, no javascript: links, no event handlers."""

import pytest

from rapport.common.html import markdown_to_safe_html, sanitize_html


def test_markdown_is_rendered():
    html = markdown_to_safe_html(
        "# Title\n\n**bold** and *italic* with `code`\n\n- one\n- two\n\n> quoted\n\n[site](https://example.org)"
    )

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html and "<code>code</code>" in html
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<blockquote>" in html
    assert 'href="https://example.org"' in html


def test_tables_from_markdown_extra_survive():
    html = markdown_to_safe_html("| a | b |\n|---|---|\n| 1 | 2 |")

    assert "<table>" in html and "<td>1</td>" in html


def test_links_are_marked_so_they_cannot_reach_back_into_the_page():
    html = markdown_to_safe_html("[site](https://example.org)")

    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "before <script src='https://evil.example/x.js'></script> after",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
    ],
)
def test_script_tags_are_stripped(text):
    html = markdown_to_safe_html(text)

    assert "<script" not in html.lower()
    assert "alert(1)</script" not in html.lower()


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="  javascript:alert(1)">click</a>',
        '<a href="jav&#x09;ascript:alert(1)">click</a>',
        '<a href="data:text/html,<script>alert(1)</script>">click</a>',
        '<a href="vbscript:msgbox(1)">click</a>',
    ],
)
def test_dangerous_link_schemes_are_stripped(text):
    html = markdown_to_safe_html(text)

    assert "javascript:" not in html.lower()
    assert "data:" not in html.lower() and "vbscript:" not in html.lower()
    assert "click" in html


@pytest.mark.parametrize(
    "text",
    [
        '<a href="https://example.org" onclick="alert(1)">x</a>',
        '<p onmouseover="alert(1)">x</p>',
        '<img src="x" onerror="alert(1)">',
        '<svg onload="alert(1)"></svg>',
        '<b style="background:url(javascript:alert(1))">x</b>',
    ],
)
def test_event_attributes_and_styles_are_stripped(text):
    html = markdown_to_safe_html(text)

    assert "onclick" not in html and "onmouseover" not in html and "onerror" not in html and "onload" not in html
    assert "style=" not in html and "<img" not in html and "<svg" not in html


@pytest.mark.parametrize("tag", ["iframe", "object", "embed", "form", "input", "style", "link", "meta"])
def test_tags_that_can_run_or_restyle_things_are_removed(tag):
    html = sanitize_html(f"<{tag}>inside</{tag}><p>kept</p>")

    assert f"<{tag}" not in html
    assert "<p>kept</p>" in html


def test_mail_and_phone_links_are_allowed():
    html = markdown_to_safe_html("[mail](mailto:grace@example.org) [call](tel:+49301234567)")

    assert 'href="mailto:grace@example.org"' in html and 'href="tel:+49301234567"' in html


def test_empty_input_is_empty_output():
    assert markdown_to_safe_html("") == ""
    assert markdown_to_safe_html(None) == ""
