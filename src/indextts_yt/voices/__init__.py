"""The voice library: named reference clips with their metadata, beside the voices the
installed engines bring with them (read-only). See library.py."""

from .library import VoiceLibrary
from .model import Voice

__all__ = ["Voice", "VoiceLibrary"]
