"""Real-size, randomly initialised IndexTTS checkpoints for the speed benchmark.

The released weights cannot be downloaded here, but speed depends on the models' shapes,
not on their values. These are the released models' dimensions, handed to the builders of
tests/fixtures/tiny_indextts.py (the same code that makes the test fixtures, from the
libraries' own classes), so every stage runs exactly the computation the real model does.

Where the numbers come from:

- IndexTTS-2 (IndexTeam/IndexTTS-2 config.yaml): GPT 1280 wide, 24 layers, 20 heads,
  max_text_tokens 600, max_mel_tokens 1815, 12000 text tokens, 8192 codes; speaker
  conformer 6 blocks x 512 (2048 linear, 8 heads), emotion conformer 4 blocks x 512 (1024
  linear, 4 heads), perceiver_mult 2, 32 conditioning latents (the class default); semantic
  codec 8192 x 8, vocos 384/2048/12 layers; s2mel: length regulator 512 channels
  (codebook 2048, 4 sampling ratios), DiT 512 wide, 13 deep, 8 heads, WaveNet 512 x 8.
- IndexTTS-2.5 (IndexTeam/IndexTTS-2.5 config.yaml, as cited line by line by a GGUF
  converter; the library's own comments agree: a 1.9 GB fp32 GPT, a 77 M-parameter text
  head, 13 DiT layers, 7 of 24 w2v-bert layers unused): the same GPT, codec and s2mel,
  60509 text tokens (tiktoken, 58836 ranks + 1673 specials), only the emotion conformer.
- facebook/w2v-bert-2.0: 1024 hidden, 24 layers, 16 heads, 4096 intermediate, depthwise
  kernel 31, relative_key positions 64/8 (= Wav2Vec2BertConfig's defaults).
- nvidia/bigvgan_v2_22khz_80band_256x: upsample 4,4,2,2,2,2 (kernels 8,8,4,4,4,4) from 1536
  channels, AMP blocks with kernels 3/7/11 and dilations 1/3/5, SnakeBeta (~112 M params).
- CAMPPlus (funasr/campplus): the fixtures already build it at its real size.

What is *not* real: the tokenizers (2.5: the 256 bytes; 2: a 512-piece sentencepiece), so the
benchmark sizes its texts by token count; IndexTTS-2's Qwen text-emotion model (tiny: the
engine loads it only when emotion_text is used, which the benchmark does not); the GPT never
emits its stop token, so a segment is exactly ``max_mel_tokens`` codes long.

Large weights are stored as float16 (the loaders copy them into float32 parameters): about
3.5 GB per engine instead of 7.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO / "tests", REPO / "src"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from fixtures.tiny_indextts import Sizes, build_indextts2, build_indextts25  # noqa: E402

#: Bump when the real-size specs below change (older builds are then replaced).
VERSION = "real-1"

_GPT = dict(model_dim=1280, layers=24, heads=20, max_text_tokens=600, max_mel_tokens=1815,
            n_codes=8192)
_EMO = {"output_size": 512, "linear_units": 1024, "attention_heads": 4, "num_blocks": 4,
        "input_layer": "conv2d2", "perceiver_mult": 2}
_SPK = {"output_size": 512, "linear_units": 2048, "attention_heads": 8, "num_blocks": 6,
        "input_layer": "conv2d2", "perceiver_mult": 2}
_SHARED = dict(
    codec={"codebook_dim": 8, "vocos_dim": 384, "vocos_intermediate_dim": 2048,
           "vocos_num_layers": 12},
    length_regulator={"channels": 512, "content_codebook_size": 2048,
                      "sampling_ratios": [1, 1, 1, 1], "n_f0_bins": 512},
    dit={"hidden_dim": 512, "num_heads": 8, "depth": 13, "content_dim": 512,
         "content_codebook_size": 1024, "n_f0_bins": 512},
    wavenet={"hidden_dim": 512, "num_layers": 8},
    w2v=dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
             intermediate_size=4096, feature_projection_input_dim=160,
             conv_depthwise_kernel_size=31, position_embeddings_type="relative_key",
             left_max_position_embeddings=64, right_max_position_embeddings=8,
             add_adapter=False, vocab_size=None, hidden_dropout=0.0, activation_dropout=0.0,
             attention_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0),
    w2v_half=True,
    bigvgan={"upsample_rates": [4, 4, 2, 2, 2, 2], "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4],
             "upsample_initial_channel": 1536, "resblock_kernel_sizes": [3, 7, 11],
             "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]]},
    stop_after=None,
)

REAL25 = Sizes(**_GPT, number_text_tokens=60509, emo_condition_module=_EMO, **_SHARED)
REAL2 = Sizes(**_GPT, number_text_tokens=12000, condition_num_latent=32,
              condition_module=_SPK, emo_condition_module=_EMO, **_SHARED)

#: Codes per second of audio: 2.5's codec upsamples its 25 Hz codes to 50 Hz features,
#: IndexTTS-2's codes are 50 Hz (each feature frame -> 1.72 mel frames of 256/22050 s).
CODES_PER_SECOND = {"indextts2.5": 25.0, "indextts2": 50.0}


def cache_root() -> Path:
    """$INDEXTTS_YT_CACHE_DIR/bench-checkpoints, else ~/.cache/indextts-yt/bench-checkpoints."""
    base = os.environ.get("INDEXTTS_YT_CACHE_DIR")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "indextts-yt"
    return root / "bench-checkpoints"


def build(engine: str, root: Path | None = None) -> dict[str, str]:
    """Build (once; later calls reuse it) the real-size checkpoint of ``engine`` and return
    its paths: {"model_dir": ...} and, for IndexTTS-2, {"hf_home": ...}. Run it in the
    environment that has the engine's library installed."""
    root = Path(root) if root else cache_root()
    if engine == "indextts2.5":
        return {"model_dir": str(build_indextts25(root / "indextts2.5", REAL25, VERSION))}
    if engine == "indextts2":
        model_dir, hf_home = build_indextts2(root / "indextts2", REAL2, VERSION)
        return {"model_dir": str(model_dir), "hf_home": str(hf_home)}
    raise ValueError(f"unknown engine {engine!r}")


def paths(engine: str, root: Path | None = None) -> dict[str, str]:
    """Where build() puts ``engine``'s checkpoint (without building it)."""
    root = Path(root) if root else cache_root()
    if engine == "indextts2.5":
        return {"model_dir": str(root / "indextts2.5")}
    return {"model_dir": str(root / "indextts2" / "model"),
            "hf_home": str(root / "indextts2" / "hf_home")}


if __name__ == "__main__":
    import json

    print(json.dumps(build(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else None)))
