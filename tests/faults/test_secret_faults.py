"""Secrets by allow-list, not by guess (issue 28, item 10).

Before: an unlisted param (`x_api_key`) and a custom header (`X-Api-Token`) were written to the
cassette and the cache; a `*_TOKEN` environment value inside a prompt printed in full in the
`CassetteMiss` message (and so in junit XML); a reply echoing a secret was stored as is; and
`--tb=long` / `-l` printed `api_key` from the `Request` repr.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sorg.errors import CassetteMiss
from sorg.model.client import ModelClient
from sorg.model.redact import allow_param, clean_params, redact_text
from sorg.model.types import Request

PARAM = "xk-unlisted-param-Vq93-secret"
HEADER = "hdr-custom-token-Rr17-secret"
ENV = "envtok-Zx81-Pp27-secret"


def _written(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_unlisted_params_and_headers_are_not_written(tmp_path, fake_backend):
    req = Request(model="fake/m", messages=({"role": "user", "content": "hi"},), sample="s",
                  params={"x_api_key": PARAM, "extra_headers": {"X-Api-Token": HEADER, "Accept": "json"},
                          "top_p": 0.9})
    c = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=tmp_path / "cache")
    c.complete(req)
    c.close()
    data = _written(tmp_path)
    assert PARAM.encode() not in data and HEADER.encode() not in data  # before: both in cassette and cache
    assert b"x_api_key" in data and b"X-Api-Token" in data and b"top_p" in data  # names kept, for review
    assert clean_params(req.params) == {"x_api_key": "***", "extra_headers": {"X-Api-Token": "***", "Accept": "json"},
                                        "top_p": 0.9}
    with pytest.raises(ValueError):
        allow_param("my_token")


def test_a_secret_in_a_prompt_or_a_reply_is_masked(tmp_path, fake_backend, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", ENV)
    c = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=None)
    done = c.complete(Request(model="fake/m", messages=({"role": "user", "content": f"use {ENV} and sk-{'a' * 24}"},),
                              sample="s1"))
    assert ENV not in done.text and "sk-aaaa" not in done.text  # the fake echoes the prompt: masked
    assert ENV.encode() not in _written(tmp_path / "cas")
    replay = ModelClient(cassette_dir=tmp_path / "cas", record="none", cache_dir=None)
    with pytest.raises(CassetteMiss) as info:
        replay.complete(Request(model="fake/m", messages=({"role": "user", "content": f"now {ENV}"},), sample="s2",
                                label=f"t[{ENV}]"))
    assert ENV not in str(info.value)  # before: in the message, so in junit XML
    for key in ("hf_" + "A" * 30, "ghp_" + "b" * 36, "AKIA" + "C" * 16, "github_pat_" + "d" * 30):
        assert key not in redact_text(f"the key is {key}."), key


def test_the_request_repr_hides_secrets():
    req = Request(model="fake/m", messages=({"role": "user", "content": "x"},),
                  params={"api_key": "sk-" + "z" * 30, "x_api_key": PARAM, "top_p": 0.5})
    text = repr(req)
    assert "zzzz" not in text and PARAM not in text and "top_p" in text  # before: the dataclass repr showed both
