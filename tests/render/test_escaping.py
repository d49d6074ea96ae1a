"""Card text is free of markup however a client renders it, and stays readable as plain text."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from cds.render.templates import table_cell

# CommonMark with raw HTML allowed: the most permissive thing an EHR's Markdown widget could be.
COMMONMARK = MarkdownIt("commonmark", {"html": True})


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("INR < 1.5", "INR < 1.5"),  # opens nothing: stays literal for plain-text EHRs
        ("CHF > NYHA 2", "CHF > NYHA 2"),
        ("ANC >1 × 10⁹/L", "ANC >1 × 10⁹/L"),
        ("x<script>alert(1)</script>", "x&lt;script>alert(1)&lt;/script>"),
        ("<b>800 mg</b>", "&lt;b>800 mg&lt;/b>"),
        ("<!-- hidden -->", "&lt;!-- hidden -->"),
        ("<?php x ?>", "&lt;?php x ?>"),
        ("<http://evil.example>", "&lt;http://evil.example>"),
        ("> a quote", "&gt; a quote"),
        ("a|b", "a\\|b"),
        ("two\nlines", "two lines"),
    ],
)
def test_table_cell(text, cell):
    assert table_cell(text) == cell


@pytest.mark.parametrize(
    "text",
    [
        "x<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<!-- hidden -->",
        "<http://evil.example>",
        "<a href='javascript:x'>y</a>",
        "> quoted",
        "INR < 1.5 and CHF > NYHA 2",
    ],
)
def test_no_markup_survives_a_commonmark_renderer(text):
    """Rendered as a list item of a card (where catalogue and FHIR text end up), the output has
    no tag, link or quote other than the list's own."""
    html = COMMONMARK.render(f"- {table_cell(text)}\n")
    tags = {t for t in ("<script", "<img", "<a ", "<blockquote", "<!--") if t in html}
    assert tags == set()
    assert html.startswith("<ul>\n<li>")
