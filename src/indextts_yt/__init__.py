"""Index-TTS-YT: a long-form narration studio."""

__version__ = "0.1.0"
