"""docs/API.md agrees with the OpenAPI document: the same routes, and every JSON object the
API answers with has a field table there listing exactly its model's fields.

The conventions (stated at the top of API.md): a route is written `` `METHOD /path` ``; an
object's table follows a heading ending in (`ModelName`), one row per field as
`` | `field` | type | meaning | ``, or `` | all of `OtherModel` | | | `` for inherited ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indextts_yt.server import create_app

API_MD = Path(__file__).resolve().parent.parent / "docs" / "API.md"
_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?\[]*)")
_HEADING = re.compile(r"^#+ .*\(`(\w+)`\)\s*$")
_FIELD_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|")
_ALL_OF_ROW = re.compile(r"^\|\s*all of `(\w+)`\s*\|")


@pytest.fixture(scope="module")
def openapi(tmp_path_factory) -> dict:
    return create_app(tmp_path_factory.mktemp("studio"), start_worker=False).openapi()


def _shape(path: str) -> str:
    """Path parameters are named differently in prose ({id}) and in the code ({job_id})."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def doc_routes(text: str) -> set[tuple[str, str]]:
    return {(m, _shape(p)) for m, p in _ROUTE.findall(text)}


def doc_tables(text: str) -> dict[str, tuple[set[str], set[str]]]:
    """Model name -> (its field names, the models it includes with 'all of')."""
    tables: dict[str, tuple[set[str], set[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = heading.group(1)
            assert current not in tables, f"two tables for {current} in API.md"
            tables[current] = (set(), set())
        elif current and line.startswith("|"):
            if (row := _FIELD_ROW.match(line)):
                tables[current][0].add(row.group(1))
            elif (row := _ALL_OF_ROW.match(line)):
                tables[current][1].add(row.group(1))
        elif current and line.strip() and tables[current][0]:
            current = None  # the table ended
    return tables


def api_routes(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), _shape(path)) for path, ops in doc["paths"].items()
            for method in ops}


def answered_models(doc: dict) -> set[str]:
    """Every component schema a response refers to, directly or through another schema."""
    schemas = doc["components"]["schemas"]
    seen: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(schemas[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for ops in doc["paths"].values():
        for op in ops.values():
            walk(op["responses"])
    return seen


def documented_fields(name: str, tables: dict[str, tuple[set[str], set[str]]]) -> set[str]:
    assert name in tables, f"docs/API.md has no field table for {name}"
    fields, includes = tables[name]
    for other in includes:
        fields = fields | documented_fields(other, tables)
    return fields


def test_every_route_is_documented_and_every_documented_route_exists(openapi):
    text = API_MD.read_text(encoding="utf-8")
    in_code, in_doc = api_routes(openapi), doc_routes(text)
    assert in_code - in_doc == set(), "routes missing from docs/API.md"
    assert in_doc - in_code == set(), "docs/API.md names routes the server does not have"


def test_every_answered_object_has_a_table_with_exactly_its_fields(openapi):
    tables = doc_tables(API_MD.read_text(encoding="utf-8"))
    schemas = openapi["components"]["schemas"]
    models = answered_models(openapi)
    assert {"JobPublic", "SegmentPublic", "QueueEntryPublic", "PresetPublic", "VoicePublic",
            "ClipPublic", "EngineInfo", "ErrorBody"} <= models
    for name in sorted(models):
        fields = set(schemas[name].get("properties", {}))
        documented = documented_fields(name, tables)
        assert fields - documented == set(), f"{name}: fields missing from docs/API.md"
        assert documented - fields == set(), f"{name}: docs/API.md lists fields it lacks"
    assert set(tables) - models == set(), "docs/API.md has tables for objects never answered"


def test_every_route_declares_what_it_answers(openapi):
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            responses = op["responses"]
            assert {"4XX", "5XX"} <= set(responses), where
            # The OpenAI-compatible routes answer with OpenAI's error object (issue #14).
            error = "OpenAIErrorBody" if path.startswith("/v1/") else "ErrorBody"
            for status in ("4XX", "5XX"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{error}"}, where
            ok = [s for s in responses if s.startswith("2")]
            assert len(ok) == 1, where
            if ok[0] == "204":
                assert not responses["204"].get("content"), where
                continue
            content = responses[ok[0]]["content"]
            assert content, where
            for media, body in content.items():
                schema = body.get("schema")
                assert schema, f"{where}: {media} has no schema"
                if media == "application/json" and "format" not in schema:
                    # A model, a list of models, or a choice of models: never a bare object.
                    refs = str(schema)
                    assert "$ref" in refs, f"{where}: the JSON answer has no model"


def test_the_table_parser_sees_a_missing_field():
    text = "### A thing (`Thing`)\n\n| field | type | meaning |\n|---|---|---|\n| `a` | int | |\n\nprose\n| `b` | int | |\n"
    assert doc_tables(text) == {"Thing": ({"a"}, set())}
