"""The HTTP server: JSON API, server-sent events, streamed audio, the OpenAI-compatible
speech endpoint and the web UI's files, over the same job store and runner as the CLI.

Modules, one job each: ``app`` (wiring), ``context`` (the studio a request works on, and
the database objects it owns, as dependencies), ``security`` (API key, host and origin
checks), ``errors`` (JSON error bodies), ``schemas`` (request models), ``responses`` (the
models of every answer), ``uploads`` (reading a job request, size capped), ``routes_*`` (the endpoints), ``sse`` (progress events), ``audio_stream`` (the
progressive WAV of a job), ``speech_producer`` and ``openai_speech`` (/v1/audio/speech).
"""

from .app import create_app

__all__ = ["create_app"]
