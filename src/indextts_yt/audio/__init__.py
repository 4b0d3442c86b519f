"""Audio: segment files, the narration timeline, assembly, streaming formats, subtitles.

Modules, one job each (files are written with ``indextts_yt.atomic``): ``segment_file``
(per-segment float WAV), ``resample`` (block-wise rate conversion), ``fades`` (click-free
edges), ``timeline`` (pauses and fades: the exact samples of a narration, shared by assembly
and live streaming), ``wav_writer`` (a 16-bit WAV valid while it grows), ``assemble``
(segments + pauses into one output file), ``stream_formats`` (WAV/PCM/MP3/FLAC/... bytes for
a stream that cannot seek back), ``encode`` (publishable files, with ``chapters``),
``loudness`` (BS.1770 meter, FFmpeg's), ``trim`` (segment edges), ``mastering`` (a segment at
the target loudness under the true-peak ceiling), ``subtitles`` (readable SRT/WebVTT cues).
"""

from .assemble import Assembler, assemble
from ..atomic import sweep_temp_files
from .resample import BlockResampler
from .segment_file import iter_segment_blocks, read_segment, write_segment
from .stream_formats import MEDIA_TYPES, StreamEncoder, streaming_wav_header
from .subtitles import srt_text, write_srt
from .timeline import Cue, PauseSettings, Timeline, silence_blocks

__all__ = [
    "MEDIA_TYPES",
    "Assembler",
    "BlockResampler",
    "Cue",
    "PauseSettings",
    "StreamEncoder",
    "Timeline",
    "assemble",
    "iter_segment_blocks",
    "read_segment",
    "silence_blocks",
    "srt_text",
    "streaming_wav_header",
    "sweep_temp_files",
    "write_segment",
    "write_srt",
]
