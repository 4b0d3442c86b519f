"""The text stage: script text in, numbered segments with pause hints out.

``split_script`` is the entry point; ``normalize`` and ``detect_language`` are its
building blocks, exported for callers that need them alone (previews, the API).
"""

from .language import detect_language
from .model import Segment
from .normalize import normalize
from .split import split_script

__all__ = ["Segment", "detect_language", "normalize", "split_script"]
