import pytest

from indextts_yt.text import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Once upon a time there was a bear.", "en"),
        ("从前有一只小熊，它很喜欢蜂蜜。", "zh"),
        # A Chinese sentence with an English word is still Chinese...
        ("我们用 Python 3.11 写代码。", "zh"),
        ("这个 API 很好用", "zh"),
        # Ideographs weigh three letters each: 4 × 3 = 12 ≥ 10 letters of "JavaScript".
        ("这个 JavaScript 框架", "zh"),
        ("这 JavaScript 框架", "en"),
        # ...and an English sentence with a Chinese word is still English.
        ("It works! 好的。", "en"),
        ("The word for bear is 熊.", "en"),
        # Digits and punctuation do not count; rare ideographs do.
        ("2024年", "zh"),
        ("𠀀𠀁 ok", "zh"),
        # Only zh and en are told apart.
        ("Привет, мир", "en"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "12:30, 3.14!", "……！？"])
@pytest.mark.parametrize("default", ["en", "zh"])
def test_no_letters_gives_the_default(text, default):
    assert detect_language(text, default=default) == default
