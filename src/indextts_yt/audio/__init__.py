"""Audio: segment files, streaming assembly with pauses and fades, subtitles.

Modules, one job each: ``atomic`` (temp + fsync + rename, orphan sweep), ``segment_file``
(per-segment float WAV), ``fades`` (click-free edges), ``wav_writer`` (a 16-bit WAV valid
while it grows), ``assemble`` (segments + pauses into one output), ``subtitles`` (SRT).
"""

from .assemble import Assembler, Cue, PauseSettings, assemble
from .atomic import sweep_temp_files
from .segment_file import iter_segment_blocks, read_segment, write_segment
from .subtitles import srt_text, write_srt

__all__ = [
    "Assembler",
    "Cue",
    "PauseSettings",
    "assemble",
    "iter_segment_blocks",
    "read_segment",
    "srt_text",
    "sweep_temp_files",
    "write_segment",
    "write_srt",
]
