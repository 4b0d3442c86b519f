"""Settings presets: every setting of a job, named, exported and imported as a file."""

from .library import Preset, PresetLibrary, check_in_studio
from .schema import PresetFile, parse_preset_file

__all__ = ["Preset", "PresetFile", "PresetLibrary", "check_in_studio", "parse_preset_file"]
