"""No secret reaches a cassette, the cache, a ledger, an error message or a log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sorg.errors import ModelError
from sorg.model.client import ModelClient
from sorg.model.redact import clean_params, redact_text, redact_url
from sorg.model.types import Request
from tests.fakes.openai_server import error, reply

ENV_KEY = "sk-envsecret-0123456789abcdef"
PARAM_KEY = "sk-paramsecret-9876543210fedcba"
URL_PASSWORD = "urlpassw0rd-Zq81"
URL_QUERY_KEY = "querykey-Xy77-secret"
HEADER_TOKEN = "hdrtoken-Bb55-secret"
SECRETS = (ENV_KEY, PARAM_KEY, URL_PASSWORD, URL_QUERY_KEY, HEADER_TOKEN)


def _req(srv, sample: str, url_password: bool = False) -> Request:
    # litellm's HTTP client refuses user:password@ together with an API key, and appends its
    # path after a query string, so URL credentials go only on a call that fails; its error
    # message, and everything written, must still not leak them.
    host = srv.url.replace("http://", "")
    userinfo = f"alice:{URL_PASSWORD}@" if url_password else ""
    query = f"?key={URL_QUERY_KEY}" if url_password else ""
    return Request(
        model="openai/fake", messages=({"role": "user", "content": "tell me a secret"},), sample=sample,
        label="test_secrets",
        params={
            "api_base": f"http://{userinfo}{host}{query}",
            "api_key": PARAM_KEY,
            "extra_headers": {"Authorization": f"Bearer {HEADER_TOKEN}", "X-Trace": "visible"},
        },
    )


def _all_written(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_no_secret_is_written_anywhere(tmp_path: Path, fake_server, monkeypatch, caplog, capfd) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setenv("SORG_RUN_ID", "secrets")
    caplog.set_level(logging.DEBUG)
    client = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=tmp_path / "sorg" / "cache",
                         budget_usd=5.0, prices={"openai/fake": {"input": 1e-6, "output": 1e-6}}, backoff_s=0.01,
                         retries=1)
    fake_server.script(reply("here you go"))
    ok = client.complete(_req(fake_server, "s1"))
    assert ok.source == "live"
    fake_server.script(error(500, f"upstream said: bad key {PARAM_KEY} at http://alice:{URL_PASSWORD}@x"),
                       error(500, f"again {PARAM_KEY}"))
    with pytest.raises(ModelError) as err:
        client.complete(_req(fake_server, "s2"))
    with pytest.raises(ModelError) as err2:
        client.complete(_req(fake_server, "s3", url_password=True))
    client.close()
    # The secrets were really used (so their absence below means something).
    sent = fake_server.chat_requests()[0]["headers"]
    lowered = {k.lower(): v for k, v in sent.items()}
    assert PARAM_KEY in lowered.get("authorization", "") or HEADER_TOKEN in lowered.get("authorization", "")
    written = _all_written(tmp_path)
    assert b"here you go" in written and b"X-Trace" in written  # non-secret params are kept
    out, errout = capfd.readouterr()
    for secret in SECRETS:
        assert secret.encode() not in written, secret
        assert secret not in str(err.value) and secret not in str(err2.value), secret
        assert secret not in caplog.text, secret
        assert secret not in out and secret not in errout, secret
    assert "again ***" in str(err.value)  # the provider's message, secret masked


def test_redaction_helpers() -> None:
    assert redact_url("https://u:p@h.example:8443/v1?key=abc&x=1") == "https://h.example:8443/v1?x=1"
    params = clean_params({"api_key": "k", "api_base": "https://u:p@h/v1", "extra_headers": {"api-key": "z", "X-A": "1"},
                           "temperature": 0.1})
    # an unlisted header keeps its name, its value masked (allow-list, issue 28)
    assert params == {"api_base": "https://h/v1", "extra_headers": {"X-A": "***"}, "temperature": 0.1}
    text = redact_text("call https://bob:hunter22@h/v1 with sk-abcdefghijklmnopqrst and Bearer abcdefghijk", ["hunter22"])
    assert "hunter22" not in text and "sk-abcdefghij" not in text and "abcdefghijk" not in text and "bob" not in text


@pytest.mark.parametrize("name", ["aws_web_identity_token", "azure_password", "my_client_secret_v2",
                                  "google_application_credentials", "GITHUB_TOKEN", "db-password", "token"])
def test_secret_params_are_matched_by_name_segment(name: str, tmp_path: Path) -> None:
    # before: only a fixed list of names was dropped, so these reached the cassette
    from sorg.model.identity import request_key

    value = "s3cr3t-value-Qq42-" + name
    params = {name: value, "max_tokens": 64, "top_p": 0.9}
    assert clean_params(params) == {"max_tokens": 64, "top_p": 0.9}  # `max_tokens` is not a *_token
    a = Request(model="fake/m", messages=({"role": "user", "content": "hi"},), sample="s", params=params)
    b = Request(model="fake/m", messages=({"role": "user", "content": "hi"},), sample="s",
                params={**params, name: "another-value-Zz99"})
    assert request_key(a) == request_key(b)  # the secret is not part of the identity
    assert value not in redact_text(f"failed with {name}={value}", extra=__import__("sorg.model.redact", fromlist=["x"]).secret_values(params))
