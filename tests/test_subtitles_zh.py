"""Chinese subtitles break between words (jieba's), never inside one; English and the
English words of mixed lines break at spaces as before.

Real text, the real subtitle functions and the real jieba: each line end and cue end is
checked against ``jieba.lcut`` of the same text.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from conftest import pooh_paragraphs
from indextts_yt.audio.subtitles import SubtitleStyle, display_width, split_cues, wrap_cue_text

jieba.setLogLevel(logging.WARNING)

EXAMPLE = "她介绍了一个新的语音合成模型"
PARAGRAPH = (
    "上个星期，研究团队在一场线上发布会上介绍了他们最新的语音合成模型。"
    "这个模型只需要一段十秒左右的参考录音，就能模仿说话人的音色和语气，"
    "朗读任意长度的中文或英文文章。负责人表示，过去的系统在处理长篇内容时常常出现停顿不自然、"
    "语调单一的问题，而新模型会根据上下文调整节奏，让听众更容易集中注意力。"
    "为了检验效果，他们邀请了两百多位志愿者参加盲听测试，大多数人无法分辨合成语音和真人录音。"
    "团队同时提醒，声音克隆技术可能被滥用，因此他们为每一段生成的音频都加入了不可听见的水印，"
    "并且只向通过审核的机构开放接口。"
)
MIXED = (
    "我们用 Python 写了一个小工具，它可以把很长的文章读出来，再生成 SRT 和 WebVTT 字幕。"
    "接下来我们试一试 IndexTTS-2.5 这个模型，看看它读中文和 English 混在一起的句子效果怎么样。"
    "第一步，安装依赖；第二步，准备一段参考音频，比如 reference.wav；第三步，运行 narrate 命令。"
)

STYLES = [
    SubtitleStyle(),
    SubtitleStyle(max_line_chars=32),  # Netflix's 16 Chinese characters a line
    SubtitleStyle(max_line_chars=20, max_lines=1, max_cue_s=3.0, min_cue_s=0.5),
    SubtitleStyle(max_line_chars=12, max_lines=3, max_cue_s=5.0),
]
SECONDS_PER_CHAR = [0.15, 0.22, 0.3]  # fast, ordinary and slow Mandarin narration


def break_offsets(flat: str, pieces: list[str]) -> list[int]:
    """Where in ``flat`` each piece but the last ends: the pieces (lines, in order) must
    be ``flat`` cut at those places, with nothing but spaces between them."""
    offsets, pos = [], 0
    for piece in pieces:
        found = flat.index(piece, pos)
        assert flat[pos:found].strip() == "", (flat[pos:found], piece)
        if pos:
            offsets.append(pos)
        pos = found + len(piece)
    assert pos == len(flat)
    return offsets


def lines_of(cues) -> list[str]:
    """Every line of every cue, in order: a cue ends where its last line does, so the
    line ends are all the cuts, between cues and inside them."""
    return [line for cue in cues for line in cue.lines]


def word_ends(text: str) -> set[int]:
    ends, pos = {0}, 0
    for word in jieba.lcut(text):
        pos += len(word)
        ends.add(pos)
    return ends


def assert_breaks_between_words(text: str, pieces: list[str]) -> None:
    """Every cut is at a space, or where jieba ends a word (its words include the marks)."""
    ends = word_ends(text)
    for at in break_offsets(text, pieces):
        before = text[:at].rstrip(" ")
        assert len(before) in ends or text[at - 1] == " ", f"{before[-6:]} / {text[at:at + 6]}"


@pytest.mark.parametrize("style", STYLES, ids=["default", "16-chars", "one-line", "narrow"])
@pytest.mark.parametrize("pace", SECONDS_PER_CHAR)
def test_the_example_is_never_cut_inside_a_word(style, pace):
    for text in (EXAMPLE, EXAMPLE + "。", "今天，" + EXAMPLE + "，效果很好。" * 3):
        lines = lines_of(split_cues([(0.0, pace * len(text), text)], style))
        assert_breaks_between_words(text, lines)
        assert not any(line.endswith("语音合") for line in lines), lines
    for width in range(4, 30):
        lines = wrap_cue_text(EXAMPLE, width).split("\n")
        assert_breaks_between_words(EXAMPLE, lines)
        assert all(display_width(line) <= width for line in lines), lines


@pytest.mark.parametrize("style", STYLES, ids=["default", "16-chars", "one-line", "narrow"])
@pytest.mark.parametrize("pace", SECONDS_PER_CHAR)
def test_a_long_paragraph_breaks_only_at_words_and_fits(style, pace):
    cues = split_cues([(3.0, 3.0 + pace * len(PARAGRAPH), PARAGRAPH)], style)
    assert len(cues) > 4
    # Cue and line boundaries, each at a jieba word end or after a mark.
    assert_breaks_between_words(PARAGRAPH, lines_of(cues))
    for cue in cues:
        assert len(cue.lines) <= style.max_lines
        assert all(display_width(line) <= style.max_line_chars for line in cue.lines), cue.lines
        assert cue.end - cue.start <= style.max_cue_s + 1e-9
    # Punctuation still comes first: most cues end at a mark.
    at_marks = sum(c.text[-1] in "，。；、：！？" for c in cues[:-1])
    assert at_marks / (len(cues) - 1) > 0.5 or style.max_lines * style.max_line_chars < 30


def test_mixed_lines_keep_english_words_and_chinese_words_whole():
    for style in STYLES:
        lines = lines_of(split_cues([(0.0, 30.0, MIXED)], style))
        assert_breaks_between_words(MIXED, lines)
        for at in break_offsets(MIXED, lines):
            latin = [ch.isascii() and ch.isalnum() for ch in MIXED[at - 1 : at + 1]]
            assert not all(latin), MIXED[at - 8 : at + 8]
        for word in ("Python", "WebVTT", "IndexTTS-2.5", "English", "reference.wav"):
            assert any(word in line for line in lines), (word, lines)


def test_a_word_too_wide_for_a_line_is_cut_only_then():
    text = "中华人民共和国成立了"  # jieba: 中华人民共和国 / 成立 / 了
    assert jieba.lcut(text)[0] == "中华人民共和国"
    assert wrap_cue_text(text, 16).split("\n") == ["中华人民共和国", "成立了"]  # 8 characters a line
    narrow = wrap_cue_text(text, 8).split("\n")  # 4 characters a line: the word must give
    assert "".join(narrow) == text and all(display_width(line) <= 8 for line in narrow)
    assert len(narrow) == 3


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_english_never_loads_jieba_and_chinese_loads_it_quietly_and_deterministically():
    english = pooh_paragraphs(1500).replace("\n", " ")
    out = run_python(
        "import json, sys\n"
        "import indextts_yt\n"
        "from indextts_yt.audio.subtitles import split_cues\n"
        f"cues = split_cues([(0.0, 90.0, {english!r})])\n"
        "print(json.dumps(['jieba' in sys.modules, len(cues)]))\n")
    assert out.returncode == 0, out.stderr
    loaded, count = json.loads(out.stdout)
    assert not loaded and count > 5

    code = (
        "import json, sys\n"
        "from indextts_yt.audio.subtitles import split_cues\n"
        f"print(json.dumps([c.text for c in split_cues([(0.0, 60.0, {PARAGRAPH!r})])]))\n")
    first, second = run_python(code), run_python(code)
    assert first.returncode == 0 and first.stderr == "", first.stderr  # no "Building prefix dict..."
    assert first.stdout == second.stdout
    assert json.loads(first.stdout) == [c.text for c in split_cues([(0.0, 60.0, PARAGRAPH)])]
