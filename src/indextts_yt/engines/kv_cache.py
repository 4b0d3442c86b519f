"""Keeps the IndexTTS GPTs' KV cache working under the transformers that pip resolves.

Both libraries generate speech codes with a GPT-2 wrapper (``GPT2InferenceModel``) that
overrides ``prepare_inputs_for_generation(input_ids, past_key_values=None, **kwargs)``. Two
changes in transformers broke that override without an error:

- 5.24 renamed the argument ``generate()`` passes from ``past_key_values`` to ``cache``. The
  override never sees the cache, hands the model none, and every step feeds the whole
  sequence again: generation cost grows with the square of the segment's length.
- 5.18 stopped passing an all-ones ``attention_mask``. IndexTTS2 (v2) reads the mel position
  of a cached step from that mask's length (``mask.shape[1] - prefix``), so with the cache
  restored it would fail; without the cache each code got a position one off from the one
  the model uses upstream.

``install()`` wraps the library's method on the model instance (the library's files stay as
they are): the cache goes in under the name the override reads, and for v2 a missing mask is
rebuilt as the all-ones mask older releases passed (one 1 per cached position and one for
the new token), which is exactly what upstream's position formula expects. Padding never
occurs here (one text per call), so all-ones is the true mask.

The wrapper speaks both names, so it is right for every 5.x release we checked; a release
outside ``SUPPORTED`` (or one whose ``generate()`` passes neither name) is refused at engine
load with one line, since a future rename would make the engine quietly quadratic again.
The suite counts the tokens fed per step (tests/test_indextts25.py, tests/v2) to hold this.
"""

from __future__ import annotations

import functools
import inspect
import shlex
import sys
from importlib import metadata
from typing import Any

from ..errors import EngineUnavailable

#: transformers releases whose generation API this adapter was checked against (both
#: libraries, greedy codes equal to upstream's cached path, one token fed per step).
SUPPORTED = ((5, 17), (5, 26))
SUPPORTED_TEXT = "transformers>=5.17,<5.26"
#: The names generate() has used for the cache argument of prepare_inputs_for_generation.
CACHE_ARGUMENTS = ("cache", "past_key_values")
ADAPTED = "_indextts_yt_adapted"


def _release(version: str) -> tuple[int, int]:
    parts = version.split(".")
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except (IndexError, ValueError):
        return (0, 0)


def _pip() -> str:
    return f"{shlex.quote(sys.executable or 'python3')} -m pip install '{SUPPORTED_TEXT}'"


def _refuse(version: str) -> EngineUnavailable:
    return EngineUnavailable(
        f"transformers {version} is not supported by the IndexTTS engines (a change in its "
        f"generation API would silently turn off the KV cache); supported: {SUPPORTED_TEXT} "
        f"— `{_pip()}`")


def check_version() -> str:
    """The installed transformers version if it is one we checked, else EngineUnavailable
    (one line). Reads package metadata only, so an engine can say it at once, unloaded."""
    try:
        version = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        raise EngineUnavailable(f"the IndexTTS engines need {SUPPORTED_TEXT}: `{_pip()}`"
                                ) from None
    low, high = SUPPORTED
    if not low <= _release(version) < high:
        raise _refuse(version)
    return version


def cache_argument() -> str:
    """The name under which the installed generate() passes the KV cache to
    prepare_inputs_for_generation; EngineUnavailable (one line) if it is neither we know."""
    version = check_version()
    from transformers import GenerationMixin

    params = inspect.signature(GenerationMixin.prepare_inputs_for_generation).parameters
    names = [name for name in CACHE_ARGUMENTS if name in params]
    if not names:
        raise _refuse(version)
    return names[0]


def install(inference_model: Any, *, mask_positions: bool) -> None:
    """Adapt ``inference_model.prepare_inputs_for_generation`` (a library's GPT2InferenceModel)
    to the installed transformers. ``mask_positions``: the model reads the mel position from
    the attention mask's length (IndexTTS2), so a dropped all-ones mask is rebuilt."""
    argument = cache_argument()
    if getattr(inference_model.prepare_inputs_for_generation, ADAPTED, False):
        return
    original = type(inference_model).prepare_inputs_for_generation

    @functools.wraps(original)
    def prepare_inputs_for_generation(input_ids, **kwargs):
        cache = kwargs.pop(argument, None)
        if mask_positions and kwargs.get("attention_mask") is None and cache is not None:
            cached = int(cache.get_seq_length() or 0)
            if cached:
                import torch

                kwargs["attention_mask"] = torch.ones(
                    (input_ids.shape[0], cached + 1), dtype=torch.long, device=input_ids.device)
        return original(inference_model, input_ids, past_key_values=cache, **kwargs)

    setattr(prepare_inputs_for_generation, ADAPTED, True)
    inference_model.prepare_inputs_for_generation = prepare_inputs_for_generation
    if argument == "cache":
        _quiet_old_name_notices()


@functools.cache
def _quiet_old_name_notices() -> None:
    """The libraries' forward hands the cache to GPT2Model as ``past_key_values``, which
    transformers >= 5.24 still takes but announces as deprecated on every new process, over
    our progress display. SUPPORTED ends before the release that drops the old name."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=r"`past_key_values` is deprecated",
                            category=FutureWarning)
    logging.getLogger("transformers.utils.generic").addFilter(
        lambda record: "`past_key_values`" not in record.getMessage())
