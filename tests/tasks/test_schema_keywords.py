"""The task schema is checked by jsonschema (the whole of draft-07: a keyword sorg's own
walker lacked, such as `uniqueItems` or `oneOf`, used to pass every task), with sorg's
messages on top; a keyword that is not draft-07 (a typo jsonschema would ignore) is refused."""

from __future__ import annotations

import json

import pytest

from sorg.tasks.bank import SCHEMA_PATH
from sorg.tasks.schema_check import check_keywords, validate_schema


def test_the_shipped_schema_uses_only_draft07_keywords() -> None:
    check_keywords(json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("schema, value, where, message", [
    ({"type": "array", "uniqueItems": True}, ["a", "a"], "", "must not repeat an item"),
    ({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}, {"type": "string"}]}}}, {"a": "x"},
     "a", "is valid under each of"),
    ({"type": "string", "format": "email"}, "not an address", "", "is not a 'email'"),
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"k": 1}, "k", "must be string, not integer"),
    ({"type": "object", "properties": {"a": {"type": "array", "items": [{"type": "string"}]}}}, {"a": [1]}, "a[0]",
     "must be string"),
])
def test_every_draft07_keyword_is_checked(schema: dict, value: object, where: str, message: str) -> None:
    errors = validate_schema(value, dict(schema), dict(schema))
    assert errors and errors[0][0] == where and message in errors[0][1], errors


def test_a_keyword_that_is_not_draft07_is_refused() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "minLenght": 3}}}
    with pytest.raises(ValueError, match="'minLenght' at #/properties/a is not a draft-07 keyword"):
        validate_schema({"a": ""}, schema, schema)


def test_sorgs_messages_name_the_field_once_per_problem() -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["id"],
              "properties": {"id": {"type": "string", "minLength": 2, "enum": ["ab"]},
                             "tags": {"type": "array", "items": {"type": "string"}}}}
    errors = validate_schema({"tags": ["x", 3], "extra": 1, "more": 2}, schema, schema)
    assert ("id", "is required") in errors
    assert ("tags[1]", "must be integer or string, not integer (3)") not in errors
    assert ("tags[1]", "must be string, not integer (3)") in errors
    assert [e for e in errors if e[1].startswith("unknown field")] == [
        ("extra", "unknown field (allowed: id, tags)"), ("more", "unknown field (allowed: id, tags)")]
    # A wrong type is said alone: not also "must be one of 'ab'" and "at least 2 characters".
    assert validate_schema({"id": 5}, schema, schema) == [("id", "must be string, not integer (5)")]
