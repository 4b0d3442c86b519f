import math
import random
import re
from pathlib import Path

import pytest

from indextts_yt.errors import InputError
from indextts_yt.text import Segment, normalize, split_script
from indextts_yt.text.markdown import strip_markdown

BOOK = Path("/work/shared/texts/winnie-the-pooh.txt")


def squash(text: str) -> str:
    """Text with all whitespace removed: what must survive splitting unchanged."""
    return re.sub(r"\s+", "", text)


def texts(segments):
    return [s.text for s in segments]


def check_invariants(source: str, segments: list[Segment], max_chars: int) -> None:
    assert [s.index for s in segments] == list(range(len(segments)))
    for s in segments:
        assert s.text and s.text == s.text.strip() and "\n" not in s.text
        assert len(s.text) <= max_chars
        assert s.pause_after in ("clause", "sentence", "paragraph", "heading")
        assert s.language in ("en", "zh")
        if s.chapter is not None:
            assert s.chapter == s.text or s.pause_after in ("clause", "sentence")
    # Nothing lost, nothing added, nothing reordered.
    assert squash("".join(texts(segments))) == squash(strip_markdown(normalize(source)))


# --- structure: headings, paragraphs, pauses, languages -----------------------------------


def test_headings_and_paragraphs():
    script = (
        "# Chapter One: *In Which* We Meet Pooh ##\n\n"
        "Here is Edward Bear. He is coming downstairs.\n"
        "Bump, bump, bump.\n\n"
        "Sometimes he likes a game.\n\n"
        "## [Chapter Two](two.html)\n\n"
        "Pooh went visiting."
    )
    assert split_script(script) == [
        Segment(0, "Chapter One: In Which We Meet Pooh", "heading", "Chapter One: In Which We Meet Pooh", "en"),
        Segment(1, "Here is Edward Bear. He is coming downstairs. Bump, bump, bump.", "paragraph", None, "en"),
        Segment(2, "Sometimes he likes a game.", "paragraph", None, "en"),
        Segment(3, "Chapter Two", "heading", "Chapter Two", "en"),
        Segment(4, "Pooh went visiting.", "paragraph", None, "en"),
    ]


def test_only_headings():
    assert split_script("# One\n## Two ##\n### 第三章") == [
        Segment(0, "One", "heading", "One", "en"),
        Segment(1, "Two", "heading", "Two", "en"),
        Segment(2, "第三章", "heading", "第三章", "zh"),
    ]


def test_last_segment_of_a_paragraph_pauses_for_a_paragraph():
    paragraph = " ".join(f"This is sentence number {n} of the story." for n in range(1, 9))
    segments = split_script(paragraph + "\n\nThe end.", max_chars=100)
    assert [s.pause_after for s in segments] == ["sentence"] * (len(segments) - 2) + ["paragraph", "paragraph"]
    assert len(segments) > 3


MIXED = "Hello there.\n\n你好，世界。\n\n我们用 Python 写代码。\n\nIt works! 好的。"


def test_mixed_segments_are_cut_where_the_language_changes():
    segments = split_script(MIXED)
    assert [(s.text, s.language, s.pause_after) for s in segments] == [
        ("Hello there.", "en", "paragraph"), ("你好，世界。", "zh", "paragraph"),
        ("我们用", "zh", "clause"), ("Python", "en", "clause"), ("写代码。", "zh", "paragraph"),
        ("It works!", "en", "sentence"), ("好的。", "zh", "paragraph")]


@pytest.mark.parametrize(
    ("script", "languages"),
    [
        # Not cut by language: a segment takes the language most of it is in.
        (MIXED, ["en", "zh", "zh", "en"]),
        # A segment with no letters is read in the language of the whole script.
        ("这是第一章的内容，讲的是小熊的故事。\n\n2024。", ["zh", "zh"]),
        ("This is the first chapter of the story.\n\n2024.", ["en", "en"]),
    ],
)
def test_language_per_segment(script, languages):
    assert [s.language for s in split_script(script, by_language=False)] == languages


# --- packing: merging sentences, short fragments, boundaries ----------------------------------


def test_short_sentences_of_a_paragraph_are_merged():
    assert texts(split_script("Hello. How are you? I am fine, thanks.")) == ["Hello. How are you? I am fine, thanks."]


def test_merging_stops_at_max_chars():
    sentences = [f"Sentence {n} is right here." for n in range(10)]  # 26 chars each
    segments = split_script(" ".join(sentences), max_chars=60, min_chars=0)
    assert texts(segments) == [" ".join(sentences[i : i + 2]) for i in range(0, 10, 2)]


@pytest.mark.parametrize(
    "script",
    [
        "Short one.\n\nShort two.",
        "# Title\nShort one.",
        "Short one.\n# Title\nShort two.",
        "短句一。\n\n短句二。",
    ],
)
def test_short_segments_never_merge_across_paragraphs_or_headings(script):
    blocks = [b for b in re.split(r"\n+", script)]
    segments = split_script(script, min_chars=100)
    assert texts(segments) == [b.lstrip("# ") for b in blocks]


def test_a_short_sentence_is_not_stranded_between_full_segments():
    a = "The bear walked slowly into the forest."  # 39
    b = "He hummed."  # 10
    c = "Yes."  # 4
    d = "Then he found a tall tree that was full of honey."  # 49
    assert [len(x) for x in (a, b, c, d)] == [39, 10, 4, 49]
    # Greedy filling gives [a b] [c] [d]: "Yes." alone. The packer moves b instead.
    segments = split_script(f"{a} {b} {c} {d}", max_chars=50, min_chars=10)
    assert texts(segments) == [a, f"{b} {c}", d]


def test_a_short_sentence_stays_alone_when_it_cannot_fit_anywhere():
    a = "x" * 45 + "."
    segments = split_script(f"{a} Yes. {a}", max_chars=50, min_chars=10)
    assert texts(segments) == [a, "Yes.", a]


def test_unpunctuated_list_items_are_not_run_together():
    segments = split_script("Buy:\n- milk\n- eggs\n- bread")
    assert texts(segments) == ["Buy: milk", "eggs", "bread"]
    assert [s.pause_after for s in segments] == ["sentence", "sentence", "paragraph"]


def test_punctuated_list_items_merge_like_sentences():
    segments = split_script("1. Preheat the oven.\n2. Mix the flour.\n3. Bake it.")
    assert texts(segments) == ["Preheat the oven. Mix the flour. Bake it."]


# --- long sentences: clause boundaries, hard wrapping -------------------------------------------


def test_long_sentence_is_cut_at_clause_boundaries():
    sentence = (
        "When the sun came up over the hills, the bears woke slowly, "
        "and they stretched their paws in the cold morning air; "
        "then they went looking for honey in the tall trees."
    )
    segments = split_script(sentence, max_chars=70)
    assert len(segments) >= 3
    assert all(s.text[-1] in ",;." for s in segments)
    assert squash("".join(texts(segments))) == squash(sentence)


def test_long_chinese_sentence_is_cut_at_clause_boundaries():
    sentence = "小熊维尼走进了森林，它一边走一边唱歌，想着树上的蜂蜜；后来它遇到了小猪，两个朋友一起去找蜂蜜了。"
    segments = split_script(sentence, max_chars=20)
    assert all(len(s.text) <= 20 for s in segments)
    assert all(s.text[-1] in "，；。" for s in segments)
    assert "".join(texts(segments)) == sentence


def test_cuts_are_balanced_rather_than_leaving_a_tiny_tail():
    sentence = "word " * 61 + "end."  # 309 characters, no punctuation inside
    segments = split_script(sentence.strip(), max_chars=300)
    assert len(segments) == 2
    assert abs(len(segments[0].text) - len(segments[1].text)) < 10


def test_long_quotation_is_cut_at_its_sentence_ends_first():
    script = (
        '"I went to the market early in the morning, before anyone else was up. '
        "I bought apples, pears and plums from the old man by the gate. "
        'Then I walked home slowly, in the rain," she said.'
    )
    segments = split_script(script, max_chars=90)
    assert texts(segments) == [
        '"I went to the market early in the morning, before anyone else was up.',
        "I bought apples, pears and plums from the old man by the gate.",
        'Then I walked home slowly, in the rain," she said.',
    ]


def test_paragraph_of_5000_characters_without_punctuation_english():
    rng = random.Random(7)
    vocabulary = ["honey", "bear", "forest", "piglet", "balloon", "tree", "bees", "a", "the", "Christopher"]
    words = []
    while sum(len(w) + 1 for w in words) < 5000:
        words.append(rng.choice(vocabulary))
    paragraph = " ".join(words)
    segments = split_script(paragraph, max_chars=300)
    check_invariants(paragraph, segments, 300)
    # Hard-wrapped on word boundaries: every segment is made of whole words.
    assert all(set(s.text.split()) <= set(vocabulary) for s in segments)
    assert " ".join(texts(segments)) == paragraph
    assert len(segments) == math.ceil(len(paragraph) / 300)


def test_paragraph_of_5000_characters_without_punctuation_chinese():
    paragraph = ("小熊维尼和小猪一起在森林里散步他们看见了一棵很高的树树上有很多蜜蜂" * 200)[:5000]
    segments = split_script(paragraph, max_chars=300)
    check_invariants(paragraph, segments, 300)
    assert "".join(texts(segments)) == paragraph
    # Cut at the limit (evenly), not into small pieces.
    assert len(segments) == math.ceil(5000 / 300)


def test_mixed_text_without_punctuation_never_cuts_inside_an_english_word():
    paragraph = "我们今天学习 Python 编程语言和 JavaScript 框架 " * 40
    segments = split_script(paragraph, max_chars=50)
    check_invariants(paragraph, segments, 50)
    for s in segments:
        for word in re.findall(r"[A-Za-z]+", s.text):
            assert word in ("Python", "JavaScript")


@pytest.mark.parametrize(
    "token",
    [
        "https://example.com/" + "/".join(f"section{n}" for n in range(60)) + "?q=1&r=2",
        "a" * 1000,
        "Supercalifragilisticexpialidocious" * 20,
        "q\u0307" * 200,  # a letter and a combining dot that has no precomposed form
    ],
)
def test_a_word_longer_than_max_chars_is_cut_but_kept(token):
    script = f"See {token} for more. Thanks."
    segments = split_script(script, max_chars=100)
    check_invariants(script, segments, 100)
    assert token in "".join(texts(segments))
    assert not any(s.text[0] == "\u0307" for s in segments)


def test_a_long_url_is_cut_after_its_punctuation():
    url = "https://example.com/" + "/".join(f"section{n}" for n in range(60))
    segments = split_script(url, max_chars=100)
    assert all(s.text.endswith("/") for s in segments[:-1])


# --- edge cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["", "   ", "\n\n\t\r\n", "\ufeff\u200b", "---\n\n<!-- a note -->\n\n#"])
def test_nothing_to_say_gives_no_segments(script):
    assert split_script(script) == []


def test_windows_line_endings_split_like_unix_ones():
    unix = "# Title ##\n\nLine one\nline two.\n\nNext paragraph."
    windows = unix.replace("\n", "\r\n")
    assert split_script(windows) == split_script(unix)
    assert texts(split_script(windows)) == ["Title", "Line one line two.", "Next paragraph."]


def test_heading_longer_than_max_chars():
    title = "A very long heading " * 10
    segments = split_script(f"# {title}\n\nBody.", max_chars=60)
    heading_parts = [s for s in segments if s.text != "Body."]
    assert heading_parts[0].chapter == title.strip()
    assert all(s.chapter is None for s in heading_parts[1:])
    assert [s.pause_after for s in heading_parts] == ["sentence"] * (len(heading_parts) - 1) + ["heading"]
    check_invariants(f"# {title}\n\nBody.", segments, 60)


@pytest.mark.parametrize(("max_chars", "min_chars"), [(0, 24), (-5, 0), (300, -1)])
def test_invalid_limits_are_rejected(max_chars, min_chars):
    with pytest.raises(InputError):
        split_script("Some text.", max_chars=max_chars, min_chars=min_chars)


def test_max_chars_of_one_still_terminates_and_keeps_everything():
    script = "Hi there. 你好！"
    segments = split_script(script, max_chars=1)
    check_invariants(script, segments, 1)


def test_markdown_is_never_spoken():
    script = (
        "> **Note:** read the [guide](https://example.com/guide) first.\n\n"
        "- *one* item\n- `two` items\n\n"
        "***\n\n"
        "<!-- hidden -->Plain ~~text~~."
    )
    spoken = " ".join(texts(split_script(script)))
    assert spoken == "Note: read the guide first. one item two items Plain text."


# --- whole texts -----------------------------------------------------------------------------


def test_whole_book_splits_within_limits_and_keeps_every_word():
    book = BOOK.read_text(encoding="utf-8")
    segments = split_script(book)
    assert len(segments) > 500
    check_invariants(book, segments, 300)
    # Every word of the book (markup aside) is there, in order, and none was cut in two
    # (a cut inside a word would show up as two words).
    words = re.compile(r"[\w']+")
    assert words.findall(" ".join(texts(segments))) == words.findall(strip_markdown(normalize(book)))


def test_splitting_is_deterministic():
    book = BOOK.read_text(encoding="utf-8")[:20000]
    assert split_script(book, max_chars=120) == split_script(book, max_chars=120)


FRAGMENTS = [
    "Dr. Smith arrived at 10:30 a.m. sharp.",
    "It cost $2.50, i.e. too much.",
    "“Hello. How are you?” she asked.",
    '"Wait... what?" said Pooh.',
    "J. R. R. Tolkien wrote v1.2.3 of it.",
    "See https://example.com/a.b?c=d or x@y.org.",
    "我们用 Python 3.11 写代码。",
    "It works! 好的。",
    "他说：“你好。”然后走了。",
    "这是一个没有标点的很长的句子" * 5,
    "no punctuation at all just words " * 6,
    "Supercalifragilisticexpialidocious" * 3,
    "U.S. vs. U.K., etc.",
    "……",
    "(Bracketed. Text.)",
    "Don't 'quote' me.",
    "**bold** and _italic_ and `code`",
    "[a link](https://example.com/x_y)",
    "\n",
    "\n\n",
    "\r\n",
    "\n- ",
    "\n1. ",
    "\n# ",
    "\n> ",
    "\t",
    "  ",
]


@pytest.mark.parametrize("seed", range(150))
def test_random_scripts_keep_every_character(seed):
    rng = random.Random(seed)
    script = " ".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 40)))
    max_chars = rng.choice([5, 12, 30, 80, 300])
    min_chars = rng.choice([0, 10, 24, 100])
    segments = split_script(script, max_chars=max_chars, min_chars=min_chars)
    check_invariants(script, segments, max_chars)
    assert split_script(script, max_chars=max_chars, min_chars=min_chars) == segments


PLAIN_FRAGMENTS = [f for f in FRAGMENTS if not re.search(r"[*_`\[#>\n]|^\s|^\d", f)]


@pytest.mark.parametrize("seed", range(100))
def test_random_plain_text_round_trips_against_normalize_alone(seed):
    # Without Markdown, the segments must add up to the normalised input itself
    # (checked without going through the Markdown stripper).
    rng = random.Random(1000 + seed)
    paragraphs = [
        " ".join(rng.choice(PLAIN_FRAGMENTS) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 4))
    ]
    script = "\n\n".join(paragraphs)
    max_chars = rng.choice([7, 25, 60, 300])
    segments = split_script(script, max_chars=max_chars)
    assert squash("".join(texts(segments))) == squash(normalize(script))
    assert all(len(s.text) <= max_chars for s in segments)
    assert sum(s.pause_after == "paragraph" for s in segments) == len(paragraphs)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "script",
    [
        "a" * 200_000,
        "中" * 200_000,
        ". " * 50_000,
        "*a " * 30_000,
        "_a " * 15_000 + "a* " * 15_000,
        "``a " * 30_000,
        "(" * 50_000 + "”" * 50_000,
        "word, " * 50_000,
        "a@" * 50_000,
    ],
    ids=["word", "ideographs", "dots", "stars", "underscores", "backticks", "brackets", "commas", "at-signs"],
)
def test_pathological_input_finishes_and_keeps_everything(script):
    # Each of these once took minutes (a pattern rescanned from every position); the
    # timeout turns a return of quadratic behaviour into a failure.
    segments = split_script(script)
    check_invariants(script, segments, 300)


@pytest.mark.parametrize("text, pauses", [
    # A sentence too long for one segment is cut at a comma: only a breath there.
    ("word " * 40 + "and then, " + "more " * 40 + "words.", ["clause", "paragraph"]),
    ("One sentence ends here. Another one follows it.", ["paragraph"]),
    ("Buy:\n- milk\n- eggs", ["sentence", "paragraph"]),
])
def test_pause_class_reflects_where_the_cut_is(text, pauses):
    segments = split_script(text, max_chars=220)
    assert [s.pause_after for s in segments] == pauses
