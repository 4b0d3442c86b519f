"""The text stage: script text in, numbered segments with pause hints out.

``split_script`` is the entry point; ``normalize`` and ``detect_language`` are its
building blocks, exported for callers that need them alone (previews, the API), and
``left_out`` names the tables and code blocks it does not read aloud.
"""

from .language import detect_language
from .markdown import left_out
from .model import Segment
from .normalize import normalize
from .split import split_script

__all__ = ["Segment", "detect_language", "left_out", "normalize", "split_script"]
