import pytest

from indextts_yt.text import normalize
from indextts_yt.text.markdown import Heading, Paragraph, parse_blocks, strip_inline, strip_markdown


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        # Emphasis of every flavour loses its markers, keeps its words.
        ("A *soft* and **loud** and ***very*** word.", "A soft and loud and very word."),
        ("An _old_ and __older__ style.", "An old and older style."),
        ("**Bold with *nested* italics** inside.", "Bold with nested italics inside."),
        ("Some ~~deleted~~ text.", "Some deleted text."),
        ("这是**重点**内容，还有*强调*。", "这是重点内容，还有强调。"),
        ('"_What_ about a story?" I said.', '"What about a story?" I said.'),
        # Symbols that only look like emphasis stay.
        ("Call snake_case_names and file_v2_final_.txt now.", "Call snake_case_names and file_v2_final_.txt now."),
        ("Compute 2*3*4 or 2 * 3 * 4.", "Compute 2*3*4 or 2 * 3 * 4."),
        ("A lone * star and a lone _ bar.", "A lone * star and a lone _ bar."),
        # Inline code: the backticks go, the contents stay untouched.
        ("Run `pip install` now.", "Run pip install now."),
        ("Type ``a `tick` b`` here.", "Type a `tick` b here."),
        ("Keep `*stars*` in code.", "Keep *stars* in code."),
        # Links and images keep their text; reference links and footnote markers too.
        ("Read [the docs](https://example.com/a_b_c) today.", "Read the docs today."),
        ('See [this](http://x.org/p(1) "Title") page.', "See this page."),
        ("An ![owl](owl.png) image.", "An owl image."),
        ("A [reference][ref] link.", "A reference link."),
        ("A claim.[^1] More.", "A claim. More."),
        ("Mail <me@example.org> or <https://example.com>.", "Mail me@example.org or https://example.com."),
        # Bare URLs are shielded from emphasis rules.
        ("Go to https://example.com/_private_/x now.", "Go to https://example.com/_private_/x now."),
        # Escapes give the literal character.
        (r"Use \*literal\* stars and a \# sign.", "Use *literal* stars and a # sign."),
    ],
)
def test_strip_inline(markdown, expected):
    assert strip_inline(markdown) == expected


def blocks(text):
    return parse_blocks(normalize(text))


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# Title", [Heading("Title")]),
        ("## Chapter Two ##", [Heading("Chapter Two")]),
        ("### Trailing hashes #######", [Heading("Trailing hashes")]),
        ("# Learning C#", [Heading("Learning C#")]),
        ("# *The* [Beginning](b.html)", [Heading("The Beginning")]),
        ("# 第一章 **开始**", [Heading("第一章 开始")]),
        # Not headings: no space after the #, or seven of them.
        ("#hashtag trend", [Paragraph(("#hashtag trend",))]),
        ("####### too deep", [Paragraph(("####### too deep",))]),
        # An empty heading says nothing.
        ("#\n\nText.", [Paragraph(("Text.",))]),
        # A heading ends the paragraph before it even without a blank line.
        ("Intro line.\n# Part One\nBody line.", [Paragraph(("Intro line.",)), Heading("Part One"), Paragraph(("Body line.",))]),
        # Wrapped lines join with a space in English and with nothing in Chinese.
        ("one line\nwrapped here.", [Paragraph(("one line wrapped here.",))]),
        ("第一行\n第二行。", [Paragraph(("第一行第二行。",))]),
        ("用\nPython", [Paragraph(("用 Python",))]),
        # Emphasis spanning a line break is still emphasis.
        ("_an emphasised\nphrase_ here", [Paragraph(("an emphasised phrase here",))]),
        # Lists: each item is its own run; continuation lines join their item.
        (
            "Buy:\n- milk\n* eggs\n+ bread\n  and butter",
            [Paragraph(("Buy:", "milk", "eggs", "bread and butter"))],
        ),
        ("1. First step.\n2. Second step.\n10) Tenth step.", [Paragraph(("First step.", "Second step.", "Tenth step."))]),
        ("- [ ] todo\n- [x] done", [Paragraph(("todo", "done"))]),
        # A wrapped line that starts with a number is prose, not a list...
        ("The battle was in\n1066. It changed England.", [Paragraph(("The battle was in 1066. It changed England.",))]),
        # ...and so is a paragraph that opens with a year.
        ("1969. We landed on the Moon.", [Paragraph(("1969. We landed on the Moon.",))]),
        # Block quotes, nested too.
        ("> Quoted\n> text.\n> > Deeper.", [Paragraph(("Quoted text. Deeper.",))]),
        # Horizontal rules separate paragraphs and are not read.
        ("Before.\n\n---\n\nAfter.", [Paragraph(("Before.",)), Paragraph(("After.",))]),
        ("Before.\n* * *\nAfter.", [Paragraph(("Before.",)), Paragraph(("After.",))]),
        ("Before.\n___\n\n=====\nAfter.", [Paragraph(("Before.",)), Paragraph(("After.",))]),
        # HTML comments vanish, inline or across lines.
        ("Keep <!-- not this --> that.", [Paragraph(("Keep that.",))]),
        ("A.\n<!--\nhidden\n\nparagraph\n-->\nB.", [Paragraph(("A.", )), Paragraph(("B.",))]),
        # Reference definitions are dropped; footnote definitions keep their text.
        ("Text [here][1].\n\n[1]: https://example.com \"Example\"", [Paragraph(("Text here.",))]),
        ("[^1]: The note itself.", [Paragraph(("The note itself.",))]),
        # Fenced code is left out whole, fences and contents (no Markdown inside).
        ("```python\n# not a heading\nx = a*b*c\n```", []),
        ("~~~\n*dropped*\n~~~\nAfter.", [Paragraph(("After.",))]),
        # Three backticks with more backticks on the line are inline code, not a fence.
        ("```inline``` code here.", [Paragraph(("inline code here.",))]),
        # Nothing but markup: nothing to read.
        ("---\n\n<!-- note -->\n\n#", []),
    ],
)
def test_parse_blocks(markdown, expected):
    assert blocks(markdown) == expected


def test_strip_markdown_keeps_every_word_of_plain_text():
    plain = "Here is Edward Bear, coming downstairs now.\n\nBump, bump, bump."
    assert strip_markdown(normalize(plain)) == plain


def test_strip_markdown_joins_blocks_with_blank_lines():
    assert strip_markdown(normalize("# T\n\n- a\n- b\n\nEnd.")) == "T\n\na\nb\n\nEnd."


@pytest.mark.parametrize("text, expected", [
    ("[chapter: The Flood]\nIt rained.", [Heading("The Flood"), Paragraph(("It rained.",))]),
    ("[Chapter:  Two  ]", [Heading("Two")]),
    ("[章节：第一章 洪水]\n下雨了。", [Heading("第一章 洪水"), Paragraph(("下雨了。",))]),
    ("[章: 尾声]", [Heading("尾声")]),
    # Not a marker: no colon, or text around it.
    ("[chapter notes] kept.", [Paragraph(("[chapter notes] kept.",))]),
    ("See [chapter: 3] later.", [Paragraph(("See [chapter: 3] later.",))]),
])
def test_chapter_marker_for_plain_text(text, expected):
    assert blocks(text) == expected
