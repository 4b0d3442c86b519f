import pytest

from indextts_yt.text import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # NFC: a decomposed accent becomes one character.
        ("Cafe\u0301 au lait", "Café au lait"),
        # Line endings: Windows, old Mac, Unicode separators.
        ("one\r\ntwo\rthree", "one\ntwo\nthree"),
        ("one\u2028two", "one\ntwo"),
        ("one\u2029two", "one\n\ntwo"),
        ("page one\fpage two", "page one\n\npage two"),
        # BOM and invisible characters go; so do controls, but newlines stay.
        ("\ufeffHello", "Hello"),
        ("zero\u200bwidth jo\u200din\u2060er", "zerowidth joiner"),
        ("co\u00adoperate", "cooperate"),
        ("right\u200fto\u202aleft\u202c", "righttoleft"),
        ("bell\x07 null\x00 del\x7f", "bell null del"),
        # A joiner between a letter and its accent no longer blocks composition.
        ("e\u200b\u0301", "é"),
        # Tabs and exotic spaces become single spaces; runs collapse; lines are trimmed.
        ("a\tb", "a b"),
        ("a  \t  b", "a b"),
        ("10\u00a0km and\u2009more", "10 km and more"),
        ("\u3000\u3000第一章", "第一章"),
        ("   indented line   \nnext", "indented line\nnext"),
        # Paragraph breaks survive; several blank (or blank-looking) lines become one.
        ("para one\n\npara two", "para one\n\npara two"),
        ("para one\n\n\n\n\npara two", "para one\n\npara two"),
        ("para one\n   \n \t \npara two", "para one\n\npara two"),
        ("\n\n  leading and trailing  \n\n", "leading and trailing"),
        # Full-width Chinese punctuation and typographic quotes are kept as they are.
        ("你好，世界！这是“引号”。（括号）：；？", "你好，世界！这是“引号”。（括号）：；？"),
        ("“Curly” ‘quotes’ and … stay", "“Curly” ‘quotes’ and … stay"),
        ("全角数字１２３", "全角数字１２３"),
        # Whitespace-only input is empty.
        ("", ""),
        (" \t\r\n\u3000\ufeff\n ", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "  A\r\n\r\n\r\nB\u200b C\t\tD  \n",
        "第一行\u3000\n\n\n第二行",
        "e\u0301\u00ad\ufeff x",
    ],
)
def test_normalize_is_idempotent(raw):
    once = normalize(raw)
    assert normalize(once) == once
