"""The JSON API contract itself: docs/json-api.schema.json is a valid draft
2020-12 schema that rejects what the contract forbids; every error type the
code can raise is in ERROR_TYPES, in the schema and in docs/json-api.md with
its exit code; every example in the doc is valid against the schema it names;
and the versions in code, schema, docs and ``mlxk --version --json`` agree."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from fixtures.schema import load_schema, validate, violations
from mlxk_common import JSON_API_SPEC_VERSION
from mlxk_common.errors import ERROR_TYPES

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "json-api.md"
CODE_DIRS = ("bin", "mlxk_common", "scripts", "bench")
EXAMPLE = re.compile(r"<!-- schema: (\w+) -->\n```(json|ndjson)\n(.*?)\n```", re.S)
FENCE = re.compile(r"^```(json|ndjson)$", re.M)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    # Every $ref points at a definition that exists.
    refs = set(re.findall(r'"\$ref": "#/\$defs/(\w+)"', json.dumps(schema)))
    assert refs <= set(schema["$defs"]), refs - set(schema["$defs"])


def test_versions_agree():
    schema = load_schema()
    assert schema["json_api_spec_version"] == JSON_API_SPEC_VERSION
    text = doc_text()
    assert f"JSON API version: **{JSON_API_SPEC_VERSION}**" in text
    changelog = text.split("## Changelog", 1)[1]
    assert f"**{JSON_API_SPEC_VERSION}**" in changelog, "add a changelog entry for the current version"


def test_version_envelope(inproc):
    from mlxk_bin.mlxk import main

    result = inproc(main, ["--version", "--json"])
    assert result.code == 0
    data = validate(result.json(), "version_envelope")["data"]
    assert data["json_api_spec_version"] == JSON_API_SPEC_VERSION


def raised_error_types() -> dict[str, set[str]]:
    """Every ``MlxkError("type"`` literal of the code base: type -> files."""
    found: dict[str, set[str]] = {}
    for folder in CODE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for error_type in re.findall(r"MlxkError\(\s*[\"']([A-Za-z_]+)[\"']", path.read_text(encoding="utf-8")):
                found.setdefault(error_type, set()).add(str(path.relative_to(REPO)))
    return found


def documented_error_types() -> dict[str, int]:
    """The doc's error table: type -> exit code."""
    section = doc_text().split("### Error types", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `([a-z_]+)` \| (\d+) \|", section, re.M)}


def test_every_raised_error_type_is_known_and_documented():
    raised = raised_error_types()
    assert len(raised) > 10  # the scan does find the code's errors
    unknown = {t: sorted(files) for t, files in raised.items() if t not in ERROR_TYPES}
    assert not unknown, f"error types raised but not in ERROR_TYPES: {unknown}"
    documented = documented_error_types()
    assert set(documented) == set(ERROR_TYPES), (set(ERROR_TYPES) ^ set(documented))
    wrong_exit = {t: (documented[t], code) for t, (code, _) in ERROR_TYPES.items() if documented[t] != code}
    assert not wrong_exit, f"doc exit code != ERROR_TYPES: {wrong_exit}"
    assert load_schema()["$defs"]["error_type"]["enum"] == sorted(ERROR_TYPES)


def test_every_finding_code_is_documented_and_in_the_schema():
    from mlxk_common.inventory.health import FINDING_CODES

    section = doc_text().split("### Health findings", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \| ", section, re.M)
    assert documented == list(FINDING_CODES), set(documented) ^ set(FINDING_CODES)
    assert load_schema()["$defs"]["finding"]["properties"]["code"]["enum"] == sorted(FINDING_CODES)


def examples() -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in EXAMPLE.finditer(doc_text())]


def test_every_json_example_names_its_schema():
    fences = len(FENCE.findall(doc_text()))
    assert fences == len(examples()), "a ```json/```ndjson block without a <!-- schema: NAME --> line above it"


@pytest.mark.parametrize("index", range(len(examples())))
def test_doc_example_is_valid(index):
    name, kind, body = examples()[index]
    docs = [json.loads(body)] if kind == "json" else [json.loads(line) for line in body.splitlines() if line]
    for doc in docs:
        validate(doc, name)


def test_every_tool_has_a_validated_example():
    named = {name for name, _, _ in examples()}
    for command in ("list", "show", "health", "rm", "pull", "clone", "convert", "push", "run", "serve", "version"):
        assert named & {f"{command}_envelope", f"{command}_line"}, f"no example for {command}"
    assert {"run_batch_line", "run_request", "reference_line"} <= named


def test_every_def_is_used_or_documented():
    """No orphan definitions: each is referenced by another or named in the doc."""
    schema = load_schema()
    text = json.dumps(schema)
    doc = doc_text()
    orphans = [name for name in schema["$defs"]
               if f'"#/$defs/{name}"' not in text and f"`{name}`" not in doc and not name.endswith("_envelope")]
    assert not orphans


# -- the schema says no where the contract says no ---------------------------------------

RECORD = {
    "name": "org/m", "hash": "a" * 40, "size_bytes": 1, "last_modified": "2026-01-01T00:00:00Z",
    "framework": "MLX", "model_type": "chat", "capabilities": ["chat"], "context_length": 8, "health": "healthy",
    "runtime_compatible": True, "reason": None, "cached": True, "architecture": "llama", "path": "/m",
    "workspace": False, "managed": None, "source_repo": None, "source_revision": None, "origin": None,
    "content_hash": None, "hash_modified": None, "clean": None, "refs": ["main"], "display_name": None,
}
HEALTH = {**RECORD, "reason": "Model is healthy", "integrity_reasons": [], "runtime_reason": None, "findings": [],
          "status": "healthy"}


def changed(doc, path: str, value):
    """A copy of ``doc`` with ``a.b.c`` set (or deleted when value is ...)."""
    doc = copy.deepcopy(doc)
    *parents, key = path.split(".")
    target = doc
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return doc


def test_the_baseline_is_valid():
    validate(RECORD, "list_line")
    validate(HEALTH, "health_line")
    validate(changed(HEALTH, "findings", [{"code": "config_missing", "file": "config.json", "message": "x"}]),
             "health_line")
    validate({"status": "success", "command": "list", "data": {"models": [RECORD], "count": 1, "system": None},
              "error": None}, "list_envelope")


@pytest.mark.parametrize("doc, name", [
    (changed(RECORD, "last_modified", "2026-01-01T00:00:00+02:00"), "model_record"),  # not UTC
    (changed(RECORD, "last_modified", "2026-01-01 00:00:00"), "model_record"),
    (changed(RECORD, "extra", 1), "model_record"),  # closed
    (changed(RECORD, "refs", ...), "model_record"),  # required
    (changed(RECORD, "display_name", ...), "model_record"),
    (changed(HEALTH, "reason", None), "health_record"),  # a health record always says why
    (changed(HEALTH, "findings", ...), "health_record"),
    (changed(HEALTH, "findings", [{"code": "no_such_code", "file": None, "message": "x"}]), "health_record"),
    (changed(HEALTH, "findings", [{"code": "config_missing", "message": "x"}]), "health_record"),
    (changed(RECORD, "health", "ok"), "model_record"),
    (changed(RECORD, "hash", "abc"), "model_record"),
    (changed(RECORD, "event", "result"), None),  # a record is not an event
    ({"status": "success", "command": "list", "data": {"models": [], "count": 0, "system": None},
      "error": {"type": "usage_error", "message": "x"}}, "envelope"),  # success carries no error
    ({"status": "error", "command": "list", "data": None, "error": None}, "envelope"),
    ({"status": "error", "command": "list", "data": None, "error": {"type": "oops", "message": "x"}}, "envelope"),
    ({"status": "error", "command": "list", "data": None, "error": {"type": "usage_error"}}, "envelope"),
    ({"status": "error", "command": "frobnicate", "data": None,
      "error": {"type": "usage_error", "message": "x"}}, "envelope"),
    ({"status": "success", "command": "list", "data": None, "error": None, "extra": 1}, "envelope"),
    ({"status": "success", "command": "pull", "data": {"models": [], "count": 0, "system": None},
      "error": None}, "envelope"),  # list data under the pull command
    ({"event": "delta"}, "run_line"),
    ({"event": "delta", "text": "a", "reasoning": "b"}, "run_line"),
    ({"event": "progress", "file": "a", "bytes": -1, "total": 1}, "pull_line"),
    ({"event": "progress", "stage": "tensors", "done": 1, "total": 2}, "pull_line"),  # convert's, not pull's
    ({"event": "result", "model": "x"}, "pull_line"),
    ({"event": "error", "error": {"type": "interrupted", "message": "x"}, "extra": 1}, "pull_line"),
    ({"event": "finished"}, None),
    ({"prompt": "a", "messages": []}, "run_request"),
    ({"id": 1}, "run_request"),
    ({"title": "x"}, "reference_line"),
    ({"name": ""}, "reference_line"),
])
def test_the_schema_rejects(doc, name):
    assert violations(doc, name), f"{name or 'the top level'} accepted {doc}"
