"""Errors a user can act on. Delivery layers show ``str(error)`` as one line."""


class StudioError(Exception):
    """Base for every error that is the user's to fix (bad input, missing engine, ...)."""


class InputError(StudioError):
    """The script, a path or a setting the user gave is unusable."""


class EngineUnavailable(StudioError):
    """An engine or voice was asked for that is not installed or does not exist."""


class JobBusy(StudioError):
    """Another process is already running this job."""


class JobNotFound(StudioError):
    """No job with that id."""


class ClipNotFound(InputError):
    """No reference clip with that id in this studio."""


class PayloadTooLarge(InputError):
    """The script or upload is over a documented size limit."""


class JobConflict(StudioError):
    """The job's state does not allow that now (e.g. pausing a finished job)."""


class PresetNotFound(StudioError):
    """No settings preset with that name."""


class EntryNotFound(StudioError):
    """No pronunciation dictionary entry for that word."""


class PresetConflict(InputError):
    """A preset of that name already exists (the user may replace it)."""


class VoiceNotFound(InputError):
    """No voice with that id or name in the voice library (or among the bundled voices)."""


class VoiceConflict(InputError):
    """The voice library refuses that now: a name or recording already there, a voice an
    unfinished job uses, or a bundled voice, which is read-only."""


class AsrUnavailable(EngineUnavailable):
    """Proofreading was asked for, but its speech recogniser (the ``check`` extra) is missing."""
