"""The task schema validator refuses keywords it does not implement (before: ignored them,
so a constraint like `uniqueItems` or `oneOf` passed every task)."""

from __future__ import annotations

import json

import pytest

from sorg.tasks.bank import SCHEMA_PATH
from sorg.tasks.schema_check import check_keywords, validate_schema


def test_the_shipped_schema_uses_only_implemented_keywords() -> None:
    check_keywords(json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("schema, where", [
    ({"type": "array", "uniqueItems": True}, "'uniqueItems' at #"),
    ({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}}, "'oneOf' at #/properties/a"),
    ({"type": "string", "format": "email"}, "'format' at #"),
    ({"type": "object", "additionalProperties": {"type": "string"}}, "'additionalProperties' at #"),
    ({"type": "array", "items": [{"type": "string"}]}, "'items' at #"),
])
def test_unimplemented_keywords_are_refused(schema: dict, where: str) -> None:
    with pytest.raises(ValueError, match=where):
        validate_schema(["a", "a"], dict(schema), dict(schema))
