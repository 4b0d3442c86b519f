"""Markup that is not prose: tables and code blocks are left out (and noted), HTML tags
are stripped, entities decoded and stray pipes never read; prose that only looks like
markup stays."""

import re

import pytest

from indextts_yt.text import left_out, normalize, split_script
from indextts_yt.text.markdown import Heading, Paragraph, parse_blocks, strip_inline


def blocks(text):
    return parse_blocks(normalize(text))


def spoken(text):
    return " ".join(s.text for s in split_script(text))


# --- tables --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "Before.\n\n| Model | Price |\n|---|---|\n| Mini | $1 |\n| Max | $9 |\n\nAfter.",
        # No outer pipes.
        "Before.\n\nModel | Price\n--- | ---\nMini | $1\nMax | $9\n\nAfter.",
        # Alignment colons, ragged spacing.
        "Before.\n\n|Model|Price|Stock|\n|:--- | ---: |:-:|\n| Mini | $1 | yes |\n\nAfter.",
        # Right after a paragraph line and right before one, no blank lines.
        "Before.\n| Model | Price |\n|---|---|\n| Mini | $1 |\nAfter.",
        # Inside a block quote.
        "Before.\n\n> | Model | Price |\n> |---|---|\n> | Mini | $1 |\n\nAfter.",
        # One column, and an escaped pipe inside a cell.
        "Before.\n\n| Model |\n|---|\n| a \\| b |\n\nAfter.",
    ],
)
def test_tables_are_left_out(script):
    assert blocks(script) == [Paragraph(("Before.",)), Paragraph(("After.",))]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # A pipe in prose is not a table: the words stay, the pipe becomes a pause.
        ("Pick red | blue today.", [Paragraph(("Pick red, blue today.",))]),
        ("Home | News | Sport", [Paragraph(("Home, News, Sport",))]),
        # A rule under a line with a pipe is a rule, not a delimiter row.
        ("a | b\n---\nc", [Paragraph(("a, b",)), Paragraph(("c",))]),
        # The delimiter row must have as many cells as the header (a pipe next to
        # punctuation leaves only a space).
        ("a | b\n|---|---|---|", [Paragraph(("a, b --- --- ---",))]),
        # A row with no delimiter row under it is read, without its pipes.
        ("| just | a | row |", [Paragraph(("just, a, row",))]),
    ],
)
def test_pipes_that_are_not_tables(script, expected):
    assert blocks(script) == expected


def test_chinese_with_a_table():
    script = "价格如下 | 单位元\n| 名称 | 价格 |\n| --- | --- |\n| 苹果 | 5元 |\n| 香蕉 | 3元 |\n结束。"
    assert blocks(script) == [Paragraph(("价格如下，单位元",)), Paragraph(("结束。",))]
    assert left_out(script) == ["a table (3 rows) at line 2 is not read aloud"]


# --- code blocks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "Before.\n\n```python\nprint('a | b')\n\n# not a heading\n```\n\nAfter.",
        "Before.\n~~~\n<b>not a tag</b>\n~~~\nAfter.",
        # A longer fence is closed only by one at least as long.
        "Before.\n````md\n```\ninner\n```\n````\nAfter.",
        # A fence inside a block quote closes inside it too.
        "Before.\n\n> ```sh\n> ls | wc -l\n> ```\n\nAfter.",
    ],
)
def test_code_fences_are_left_out(script):
    assert blocks(script) == [Paragraph(("Before.",)), Paragraph(("After.",))]


def test_unclosed_fence_leaves_out_the_rest():
    script = "Before.\n\n```js\nlet a = 1;\n\n# Not a heading\n\nNot prose either."
    assert blocks(script) == [Paragraph(("Before.",))]
    assert left_out(script) == [
        "a code block (js, 5 lines) at line 3 is never closed, so nothing after its fence is read aloud"
    ]


def test_inline_code_keeps_its_text():
    assert strip_inline("Run `pip install` and `a < b`.") == "Run pip install and a < b."
    # Even inside code a pipe is never read.
    assert strip_inline("Try `ls | wc`.") == "Try ls, wc."
    # Three backticks with more on the line are inline code, not a fence.
    assert blocks("```inline``` code.") == [Paragraph(("inline code.",))]


# --- HTML ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("A <b>bold</b> and <em class='x'>fine</em> word.", "A bold and fine word."),
        ("un<i>real</i>", "unreal"),
        ('<a href="https://x.org/a_b_">the_link</a> here', "the_link here"),
        ("One<br>two<br/>three<BR />four.", "One two three four."),
        ("<p>One.</p><p>Two.</p>", "One. Two."),
        ("Keep <!-- not this --> that.", "Keep that."),
        # Entities are decoded, and are literal text: "&lt;b&gt;" is not a tag.
        ("Tax &amp; fees, R&nbsp;D, &lt;b&gt; &copy; &#8364;5 &#x4E2D;", "Tax & fees, R D, <b> © €5 中"),
        # Not entities (no ";") and not tags (not HTML element names, or not tags at all).
        ("AT&T and a&b stay.", "AT&T and a&b stay."),
        ("Press <Enter>, use List<T>, see <name>.", "Press <Enter>, use List<T>, see <name>."),
        ("If x < 5 and y > 3, then x<y.", "If x < 5 and y > 3, then x<y."),
        ("数学：x < 5 且 y > 3。", "数学：x < 5 且 y > 3。"),
        # Autolinks keep the address, escapes keep the literal character.
        ("Mail <name@example.com> or <https://example.com>.", "Mail name@example.com or https://example.com."),
        (r"Write \<b> to see a tag.", "Write <b> to see a tag."),
    ],
)
def test_html_in_a_paragraph(markdown, expected):
    assert blocks(markdown) == [Paragraph((expected,))]


def test_html_blocks_go_with_their_contents():
    script = (
        "Before.\n<script>\nlet x = a < b;\n\nalert(x);\n</script>\n"
        '<style type="text/css">p { color: red; }</style>\n'
        "<!--\nhidden\n-->\n"
        '<div align="center">\n<img src="logo.png" alt="logo">\n</div>\n'
        "After."
    )
    assert blocks(script) == [Paragraph(("Before.",)), Paragraph(("After.",))]


def test_html_in_a_heading():
    assert blocks("# <b>Part</b> One &amp; Two") == [Heading("Part One & Two")]


# --- the whole stage -----------------------------------------------------------------------

MIXED = """# Prices | 2024

Compare the plans below.
| Model | Price |
|:------|------:|
| Mini  | $1    |
| Max   | $9    |
Prices include tax &amp; fees.

Model | Notes
--- | ---
A | <b>fast</b>

```python
print("a | b")
```

> ~~~sh
> ls | wc -l
> ~~~

<div align="center"><img src="logo.png"></div>
<style>p { color: red; }</style>
<script>
  let x = a < b;
</script>
Read <i>this</i><br>and that. If x < 5 and y > 3, mail <name@example.com>. <!-- note -->
Breadcrumbs: Home | News.

中文说明 | 价格如下
| 名称 | 价格 |
| --- | --- |
| 苹果 | 5元 |
结束。

```
never closed
| a | b |
"""


def test_split_script_never_speaks_markup():
    segments = split_script(MIXED, max_chars=40, min_chars=0)
    for segment in segments:
        assert "|" not in segment.text
        assert "```" not in segment.text and "~~~" not in segment.text
        assert not re.search(r"</?[A-Za-z][^<>]*>|&[a-z]+;", segment.text)
    assert spoken(MIXED) == (
        "Prices, 2024 Compare the plans below. Prices include tax & fees. "
        "Read this and that. If x < 5 and y > 3, mail name@example.com. Breadcrumbs: Home, News. "
        "中文说明，价格如下 结束。"
    )


def test_left_out_notes_name_each_block_and_its_line():
    assert left_out(MIXED) == [
        "a table (3 rows) at line 4 is not read aloud",
        "a table (2 rows) at line 10 is not read aloud",
        "a code block (python, 1 line) at line 14 is not read aloud",
        "a code block (sh, 1 line) at line 18 is not read aloud",
        "a table (2 rows) at line 31 is not read aloud",
        "a code block (2 lines) at line 36 is never closed, so nothing after its fence is read aloud",
    ]


def test_left_out_counts_lines_of_the_script_as_given():
    # normalize drops leading blank lines, squeezes runs of blank lines and turns \r\n
    # and \r into \n; the notes still name the lines the author sees in the editor.
    script = "\r\n\r\nIntro.\r\n\r\n\r\n\r\n```\r\na\r\n\r\n\r\n\r\nb\r\n```\rText.\r| x | y |\r|---|---|\r| 1 | 2 |"
    assert left_out(script) == [
        "a code block (5 lines) at line 7 is not read aloud",
        "a table (2 rows) at line 15 is not read aloud",
    ]
    # A multi-line comment before a block does not shift its line.
    assert left_out("A.\n<!--\none\ntwo\n-->\n~~~\nx\n~~~") == ["a code block (1 line) at line 6 is not read aloud"]
    # Code is counted in its own lines, even when a script element inside it spans several.
    assert left_out("```html\n<script>\nx\n</script>\n```") == [
        "a code block (html, 3 lines) at line 1 is not read aloud"
    ]


def test_left_out_is_empty_for_plain_text():
    assert left_out("Just prose, with x < 5 and a | b.\n\nAnd <b>bold</b>.") == []
    assert left_out("") == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "script",
    ["<!--" * 50_000, "<script>" * 30_000, '<a b="' * 30_000, "<a b c d " * 20_000, "| a |\n" * 20_000,
     "|-|\n" * 20_000, " |" * 100_000, "&#1;" * 40_000, "```\n" * 20_000],
)
def test_pathological_markup_finishes(script):
    # Each is a pattern that would be quadratic if an opener searched to the end each time.
    split_script(script)
    left_out(script)


@pytest.mark.parametrize("script", [
    "Say [[h ə l oʊ]] now.",
    "Inline `[[x]]` code and an escape \\[\\[y]].",
    "# A [[heading]]\n\nText.",
    "Name <Zhang|zh ang1> here, and [[[more]]].",
])
def test_engine_markup_typed_in_a_script_never_reaches_an_engine(script):
    for seg in split_script(script):
        assert "[[" not in seg.text and "]]" not in seg.text and "|" not in seg.text, seg.text
