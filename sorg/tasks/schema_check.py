"""The task bank's files checked against `schema.json` by jsonschema (draft-07), with sorg's
messages on top.

Why jsonschema and not our own walker: it implements the whole draft (a keyword we had not
written, `uniqueItems`, `oneOf`, `format`, would otherwise have had to be refused or silently
ignored) and is already installed with litellm. What sorg adds: errors name the field the way
the bank's loader reports them (``rubric.elements[1].patterns[0]``) in plain words ("must be
at least 1 characters long", "unknown field (allowed: ...)"), one error per unknown field, a
wrong type reported alone (not with every check that then fails), and a keyword that is not
draft-07 (a typo such as ``minLenght``, which jsonschema would ignore) refused, so a schema
can never promise a check that does not run.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

__all__ = ["ANNOTATIONS", "IMPLEMENTED_KEYWORDS", "check_keywords", "json_type", "validate_schema"]


def _draft7() -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator


#: The draft-07 keywords that check something (jsonschema's own list), and those that annotate.
IMPLEMENTED_KEYWORDS = frozenset(_draft7().VALIDATORS) | {"then", "else"}  # (checked by "if")
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "definitions", "default", "examples",
                         "readOnly", "writeOnly", "contentMediaType", "contentEncoding"})
_SUBSCHEMA_MAPS = ("properties", "definitions", "patternProperties", "dependencies")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMAS = ("items", "additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else",
               "not")


def check_keywords(schema: Any, path: str = "#") -> None:
    """Raise ValueError naming the first keyword (and its place) that is not draft-07, and
    for a schema that is not valid draft-07 itself."""
    if path == "#":
        from jsonschema.exceptions import SchemaError

        try:
            _draft7().check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"the schema is not valid draft-07 at #/{'/'.join(map(str, exc.path))}: "
                             f"{exc.message}") from None
    if not isinstance(schema, dict):
        return
    for key, sub in schema.items():
        if key not in IMPLEMENTED_KEYWORDS and key not in ANNOTATIONS:
            raise ValueError(f"schema keyword {key!r} at {path} is not a draft-07 keyword "
                             f"(known: {', '.join(sorted(IMPLEMENTED_KEYWORDS))})")
        if key in _SUBSCHEMA_MAPS and isinstance(sub, dict):
            for name, child in sub.items():
                check_keywords(child, f"{path}/{key}/{name}")
        elif key in _SUBSCHEMA_LISTS or (key == "items" and isinstance(sub, list)):
            for i, child in enumerate(sub):
                check_keywords(child, f"{path}/{key}/{i}")
        elif key in _SUBSCHEMAS:
            check_keywords(sub, f"{path}/{key}")


@lru_cache(maxsize=32)
def _check_root(root_text: str) -> None:
    """`check_keywords` once per root schema (a bank checks hundreds of tasks against one)."""
    check_keywords(json.loads(root_text))


@lru_cache(maxsize=32)
def _validator(schema_text: str) -> Any:
    """A draft-07 validator (formats asserted, not only annotated) for one schema text."""
    schema = json.loads(schema_text)
    check_keywords(schema)
    v = _draft7()
    return v(schema, format_checker=v.FORMAT_CHECKER)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _where(base: str, parts: Any) -> str:
    out = base
    for p in parts:
        out = _join(out, p)
    return out


def _messages(e: Any, path: str) -> list[tuple[str, str]]:
    """One jsonschema error in sorg's words (an unknown-fields error becomes one per field)."""
    kw, vv, inst = e.validator, e.validator_value, e.instance
    if kw == "type":
        types = vv if isinstance(vv, list) else [vv]
        return [(path, f"must be {' or '.join(types)}, not {json_type(inst)} ({_short(inst)})")]
    if kw == "required":
        missing = [k for k in vv if isinstance(inst, dict) and k not in inst]
        return [(_join(path, k), "is required") for k in missing[:1]] or [(path, e.message)]
    if kw == "additionalProperties" and vv is False and isinstance(inst, dict):
        props = e.schema.get("properties", {})
        allowed = ", ".join(sorted(props)) or "none"
        return [(_join(path, k), f"unknown field (allowed: {allowed})") for k in inst if k not in props]
    words = {
        "const": lambda: f"must be {vv!r}",
        "enum": lambda: f"must be one of {', '.join(map(repr, vv))}, not {_short(inst)}",
        "minLength": lambda: f"must be at least {vv} characters long",
        "maxLength": lambda: f"must be at most {vv} characters long (is {len(inst)})",
        "pattern": lambda: f"{inst!r} does not match {vv!r}",
        "minimum": lambda: f"must be >= {vv}, not {inst!r}",
        "maximum": lambda: f"must be <= {vv}, not {inst!r}",
        "exclusiveMinimum": lambda: f"must be > {vv}, not {inst!r}",
        "exclusiveMaximum": lambda: f"must be < {vv}, not {inst!r}",
        "minItems": lambda: f"must have at least {vv} item(s)",
        "maxItems": lambda: f"must have at most {vv} items",
        "uniqueItems": lambda: "must not repeat an item",
    }
    return [(path, words[kw]() if kw in words else e.message)]


def validate_schema(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[tuple[str, str]]:
    """Check `value` against `schema` (whose `$ref`s point into `root`'s definitions); returns
    (field path, message) pairs, first problem first, with a wrong type reported alone at its
    place. Raises ValueError when the schema uses a keyword that is not draft-07."""
    _check_root(json.dumps(root, sort_keys=True))
    doc = {"definitions": root.get("definitions", {}), **schema}
    errors = sorted(_validator(json.dumps(doc, sort_keys=True)).iter_errors(value),
                    key=lambda e: (list(map(str, e.absolute_path)), e.validator != "type"))
    typed = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    out: list[tuple[str, str]] = []
    for e in errors:
        where = tuple(e.absolute_path)
        if e.validator != "type" and any(where[: len(t)] == t for t in typed):
            continue  # the value has the wrong type: what else fails there says nothing more
        out.extend(_messages(e, _where(path, where)))
    return out


def json_type(value: Any) -> str:
    """The JSON name of a value's type (integer, not int; null, not None)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
