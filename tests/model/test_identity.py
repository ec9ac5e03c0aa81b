"""Request identity: canonical, complete, stable, secret-free."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorg.model.identity import canonical, model_slug, request_key
from sorg.model.types import Request

BASE = Request(model="openai/gpt-4o", messages=({"role": "user", "content": "hi"},), temperature=0.7,
               max_tokens=100, seed=3, params={"top_p": 0.9}, sample="t1|a0|r0", label="test_x")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


def _reordered(d: dict) -> dict:
    return {k: (_reordered(v) if isinstance(v, dict) else v) for k, v in reversed(list(d.items()))}


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: k.lower() not in {"api_key", "token", "password", "secret", "headers", "extra_headers", "api_base", "base_url", "api_url", "access_token", "api_token", "client_secret"}), json_values, max_size=5),
       rf=st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=3))
def test_key_ignores_dict_ordering(params: dict, rf: dict | None) -> None:
    a = Request(model="m/x", messages=({"role": "user", "content": "q"},), params=params, response_format=rf)
    b = Request(model="m/x", messages=({"content": "q", "role": "user"},), params=_reordered(params),
                response_format=None if rf is None else _reordered(rf))
    assert request_key(a) == request_key(b)


@settings(max_examples=100, deadline=None)
@given(sample_a=st.text(max_size=20), sample_b=st.text(max_size=20))
def test_every_sample_is_its_own_request(sample_a: str, sample_b: str) -> None:
    a = Request(model="m/x", messages=({"role": "user", "content": "q"},), sample=sample_a)
    b = Request(model="m/x", messages=({"role": "user", "content": "q"},), sample=sample_b)
    assert (request_key(a) == request_key(b)) == (sample_a == sample_b)


def test_each_identifying_field_changes_the_key() -> None:
    import dataclasses

    variants = {
        "model": "openai/gpt-4o-mini",
        "messages": ({"role": "user", "content": "hi!"},),
        "temperature": 0.8,
        "max_tokens": 101,
        "seed": 4,
        "response_format": {"type": "json_object"},
        "params": {"top_p": 0.8},
        "sample": "t1|a1|r0",
    }
    keys = {request_key(BASE)}
    for name, value in variants.items():
        keys.add(request_key(dataclasses.replace(BASE, **{name: value})))
    assert len(keys) == len(variants) + 1


def test_label_and_secrets_do_not_change_the_key() -> None:
    import dataclasses

    plain = dataclasses.replace(BASE, params={"top_p": 0.9, "api_base": "https://h.example/v1"})
    k = request_key(plain)
    assert request_key(dataclasses.replace(plain, label="another test")) == k
    with_secrets = dataclasses.replace(plain, params={
        "top_p": 0.9, "api_key": "sk-abcdefghijklmnop",
        "api_base": "https://user:pw123456@h.example/v1?key=secret-q-value",
        "extra_headers": {"Authorization": "Bearer tok-12345678"},
    })
    assert request_key(with_secrets) == k
    text = canonical(with_secrets)
    for secret in ("sk-abcdefghijklmnop", "pw123456", "secret-q-value", "tok-12345678", "user:"):
        assert secret not in text


def test_non_secret_headers_stay_in_the_key() -> None:
    import dataclasses

    a = dataclasses.replace(BASE, params={"extra_headers": {"X-Variant": "a"}})
    b = dataclasses.replace(BASE, params={"extra_headers": {"X-Variant": "b"}})
    assert request_key(a) != request_key(b)


def test_integral_floats_hash_like_ints() -> None:
    import dataclasses

    assert request_key(dataclasses.replace(BASE, temperature=1)) == request_key(dataclasses.replace(BASE, temperature=1.0))


def test_key_is_stable_across_python_runs() -> None:
    code = (
        "from sorg.model.identity import request_key; from sorg.model.types import Request;"
        "print(request_key(Request(model='openai/gpt-4o', messages=({'role':'user','content':'hi'},),"
        "temperature=0.7, max_tokens=100, seed=3, params={'top_p': 0.9, 'b': {'y': 1, 'x': [1, 2]}}, sample='t1|a0|r0')))"
    )
    keys = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("0", "1", "12345")
    }
    assert len(keys) == 1
    # Pinned: a change to the canonical form invalidates every recorded cassette; it must be deliberate.
    assert keys.pop() == "647b3b3832fbac62c7d8d039bb445a606e69442e1af8bfc5d5b8be20f1b93eeb"


def test_canonical_form_is_sorted_compact_json() -> None:
    text = canonical(BASE)
    assert json.loads(text)["sample"] == "t1|a0|r0"
    assert " " not in text.replace('"content":"hi"', "")
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_model_slug() -> None:
    assert model_slug("openai/gpt-4o") == "openai--gpt-4o"
    assert model_slug("local/smollm2-135m") == "local--smollm2-135m"
    assert "/" not in model_slug("a/b/c:d e")
    assert model_slug("../..") not in ("", ".", "..")


def _plain_reference(value):
    """The general form of identity._plain (no fast paths): what every key was hashed with."""
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        return {str(k): _plain_reference(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_reference(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


nested = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda c: st.lists(c, max_size=3) | st.tuples(c, c)
    | st.dictionaries(st.text(max_size=4) | st.integers(0, 9), c, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(value=nested)
def test_fast_paths_hash_exactly_like_the_general_form(value) -> None:
    from types import MappingProxyType

    from sorg.model.identity import _plain

    assert _plain(value) == _plain_reference(value)
    wrapped = {"m": MappingProxyType({"v": value})}  # a Mapping that is not a dict takes the general branch
    assert _plain(wrapped) == _plain_reference(wrapped)


@pytest.mark.parametrize("bad", [{1, 2}, b"bytes", object(), __import__("decimal").Decimal("0.1")])
def test_values_that_are_not_plain_json_are_refused(bad) -> None:
    # before: hashed by their repr (a set's order, an object's address), so a recording of
    # such a request could never replay
    req = Request(model="fake/m", messages=({"role": "user", "content": "hi"},), sample="s",
                  params={"extra": bad})
    with pytest.raises(TypeError, match="not plain JSON"):
        request_key(req)

