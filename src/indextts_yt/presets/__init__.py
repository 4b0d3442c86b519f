"""Settings presets: every setting of a job, named, exported and imported as a file."""

from .library import Preset, PresetLibrary, check_in_studio
from .schema import PresetFile, PresetSettings, parse_preset_file, validate_settings

__all__ = ["Preset", "PresetFile", "PresetLibrary", "PresetSettings", "check_in_studio",
           "parse_preset_file", "validate_settings"]
