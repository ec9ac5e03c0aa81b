"""A small JSON Schema (draft-07 subset) validator for the task bank's files.

Why our own: sorg needs no jsonschema dependency for the one schema it ships (schema.json), and
its errors must name the field the way the bank's loader reports them (``rubric.elements[1]``).
Keywords it does not implement are refused (`check_keywords`), so a schema can never promise a
check that silently does not run.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["ANNOTATIONS", "IMPLEMENTED_KEYWORDS", "check_keywords", "json_type", "validate_schema"]



_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref!r}")
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


#: The draft-07 keywords `validate_schema` checks, and those that only annotate. A schema
#: using any other keyword (`oneOf`, `uniqueItems`, `format`...) is refused: silently
#: ignoring a constraint would let a task the schema forbids into the bank.
IMPLEMENTED_KEYWORDS = frozenset({
    "$ref", "type", "const", "enum", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "exclusiveMinimum", "minItems", "maxItems", "items", "required", "properties",
    "additionalProperties", "allOf", "if", "then", "else",
})
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "definitions", "default", "examples"})


def check_keywords(schema: Any, path: str = "#") -> None:
    """Raise ValueError naming the first keyword (and its place) this validator does not
    implement, or a keyword used in a form it does not implement."""
    if not isinstance(schema, dict):
        return
    for key, sub in schema.items():
        if key not in IMPLEMENTED_KEYWORDS and key not in ANNOTATIONS:
            raise ValueError(f"schema keyword {key!r} at {path} is not implemented by sorg's validator "
                             f"(implemented: {', '.join(sorted(IMPLEMENTED_KEYWORDS))})")
        if key == "additionalProperties" and not isinstance(sub, bool):
            raise ValueError(f"schema keyword 'additionalProperties' at {path}: only true/false is implemented")
        if key == "items" and not isinstance(sub, dict):
            raise ValueError(f"schema keyword 'items' at {path}: only one schema for every item is implemented")
        if key in ("properties", "definitions"):
            for name, child in sub.items():
                check_keywords(child, f"{path}/{key}/{name}")
        elif key in ("items", "if", "then", "else"):
            check_keywords(sub, f"{path}/{key}")
        elif key == "allOf":
            for i, child in enumerate(sub):
                check_keywords(child, f"{path}/allOf/{i}")


def validate_schema(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[tuple[str, str]]:
    """Check `value` against a draft-07 subset; returns (field path, message) pairs, first
    problem first. Stops descending into a value once its type is wrong. Raises ValueError
    when the schema uses a keyword the subset does not implement (`check_keywords`)."""
    if path == "":  # once per validated value; the walk is small next to the validation
        check_keywords(root)
    schema = _resolve(schema, root)
    errors: list[tuple[str, str]] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            return [(path, f"must be {' or '.join(types)}, not {json_type(value)} ({_short(value)})")]
    if "const" in schema and value != schema["const"]:
        errors.append((path, f"must be {schema['const']!r}"))
    if "enum" in schema and value not in schema["enum"]:
        errors.append((path, f"must be one of {', '.join(map(repr, schema['enum']))}, not {_short(value)}"))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append((path, f"must be at least {schema['minLength']} characters long"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((path, f"must be at most {schema['maxLength']} characters long (is {len(value)})"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append((path, f"{value!r} does not match {schema['pattern']!r}"))
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, f"must be >= {schema['minimum']}, not {value!r}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, f"must be <= {schema['maximum']}, not {value!r}"))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append((path, f"must be > {schema['exclusiveMinimum']}, not {value!r}"))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append((path, f"must have at least {schema['minItems']} item(s)"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((path, f"must have at most {schema['maxItems']} items"))
        if "items" in schema:
            for i, item in enumerate(value):
                errors.extend(validate_schema(item, schema["items"], root, _join(path, i)))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append((_join(path, key), "is required"))
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                errors.extend(validate_schema(item, props[key], root, _join(path, key)))
            elif schema.get("additionalProperties", True) is False:
                allowed = ", ".join(sorted(props)) or "none"
                errors.append((_join(path, key), f"unknown field (allowed: {allowed})"))
    for sub in schema.get("allOf", []):
        errors.extend(validate_schema(value, sub, root, path))
    if "if" in schema:
        if not validate_schema(value, schema["if"], root, path):
            if "then" in schema:
                errors.extend(validate_schema(value, schema["then"], root, path))
        elif "else" in schema:
            errors.extend(validate_schema(value, schema["else"], root, path))
    return errors


def json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
