"""The `model_config` setting: a litellm Router model_list file of per-model api_base / api_key.

What is tested: the file's shapes (YAML, TOML, JSON) read alike; every bad file is one
SettingError naming the file and the field, before any call; a listed model name is served by
its deployments through a real `litellm.Router` and fake OpenAI-compatible servers on loopback
(no network, no provider); a dead deployment costs no request; and the keys the file holds reach
the server but never the request hash, a cassette, the cache or an error message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sorg.errors import ModelError, SettingError
from sorg.model import routes
from sorg.model.client import ModelClient
from sorg.model.identity import request_key
from sorg.model.types import Request
from tests.fakes.openai_server import FakeOpenAI, error

KEY = "sk-file-key-0123456789abcdef"
PLAIN = "plain-file-secret-4242"  # no key shape: masked only because the file holds it
DEAD = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, the connection is refused


def _write(tmp_path: Path, doc: Any, name: str = "models.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".toml"):
        path.write_text(doc, encoding="utf-8")
    else:
        path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML too
    return path


def _doc(*bases: str, key: str = KEY, name: str = "team-model", **settings: Any) -> dict[str, Any]:
    return {"model_list": [{"model_name": name, "litellm_params": {"model": "openai/served", "api_base": b,
                                                                    "api_key": key}} for b in bases],
            **({"router_settings": settings} if settings else {})}


def _req(text: str, sample: str, model: str = "team-model") -> Request:
    return Request(model=model, messages=({"role": "user", "content": text},), sample=sample, label="t",
                   temperature=0.7, max_tokens=20)


def test_yaml_toml_and_json_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SORG_TEST_GPU_KEY", "from-the-environment")
    yaml_path = tmp_path / "m.yaml"
    yaml_path.write_text("model_list:\n  - model_name: qwen\n    litellm_params:\n      model: openai/q\n"
                         "      api_base: http://gpu-1:8000/v1\n      api_key: os.environ/SORG_TEST_GPU_KEY\n"
                         "router_settings: {routing_strategy: least-busy}\n", encoding="utf-8")
    toml_path = _write(tmp_path, '[[model_list]]\nmodel_name = "qwen"\n[model_list.litellm_params]\n'
                                 'model = "openai/q"\napi_base = "http://gpu-1:8000/v1"\n'
                                 'api_key = "os.environ/SORG_TEST_GPU_KEY"\n'
                                 '[router_settings]\nrouting_strategy = "least-busy"\n', "m.toml")
    json_path = _write(tmp_path, {"model_list": [{"model_name": "qwen", "litellm_params": {
        "model": "openai/q", "api_base": "http://gpu-1:8000/v1", "api_key": "os.environ/SORG_TEST_GPU_KEY"}}],
        "router_settings": {"routing_strategy": "least-busy"}}, "m.json")
    got = [routes.load(p) for p in (yaml_path, toml_path, json_path)]
    assert {c.model_list()[0]["litellm_params"]["api_key"] for c in got} == {"from-the-environment"}
    assert all(c.model_list() == got[0].model_list() and c.names == {"qwen"} for c in got)
    assert all(dict(c.router_settings) == {"routing_strategy": "least-busy"} for c in got)


@pytest.mark.parametrize("doc, field", [
    ([1, 2], "the top level must be a table"),
    ({"model_list": []}, "model_list: a non-empty list"),
    ({"model_list": [{"litellm_params": {"model": "openai/x"}}]}, "model_list[0].model_name"),
    ({"model_list": [{"model_name": "m", "litellm_params": {"api_base": "http://h/v1"}}]},
     "model_list[0].litellm_params.model"),
    ({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "api_base": "gpu-1:8000"}}]},
     "model_list[0].litellm_params.api_base"),
    ({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "temperature": 0.2}}]},
     "model_list[0].litellm_params.temperature: a generation setting"),
    ({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x",
                                                          "api_key": "os.environ/SORG_TEST_UNSET_VAR"}}]},
     "model_list[0].litellm_params.api_key: environment variable SORG_TEST_UNSET_VAR is not set"),
    ({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x"}, "tpmm": 3}]},
     "model_list[0].tpmm: unknown key"),
    ({**_doc("http://h/v1"), "router_settings": {"cooldown_tme": 5}},
     "router_settings.cooldown_tme: not a litellm.Router setting (did you mean 'cooldown_time'?)"),
    ({**_doc("http://h/v1"), "litellm_settings": {"drop_params": True}}, "litellm_settings: not read by sorg"),
])
def test_a_bad_file_names_the_file_and_the_field(tmp_path: Path, doc: Any, field: str) -> None:
    path = _write(tmp_path, doc)
    with pytest.raises(SettingError) as info:
        routes.load(path)
    assert str(path) in str(info.value) and field in str(info.value)


def test_an_unreadable_file_is_a_setting_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("model_list: [\n", encoding="utf-8")
    for path, why in ((tmp_path / "missing.yaml", "does not exist"), (tmp_path / "bad.yaml", "not valid YAML"),
                      (_write(tmp_path, {}, "m.ini"), "name a .yaml")):
        with pytest.raises(SettingError, match=why) as info:
            routes.load(path)
        assert str(path) in str(info.value)


def test_the_setting_is_checked_when_the_settings_are_read(tmp_path: Path) -> None:
    from sorg import options

    class Config:  # what `resolve` reads of a pytest config
        rootpath = tmp_path

        def getoption(self, name: str, default: Any = None) -> Any:
            return "models.yaml" if name == "sorg_model_config" else default

        def getini(self, name: str) -> Any:
            return None

    _write(tmp_path, {"model_list": [{"model_name": "m", "litellm_params": {"model": ""}}]})
    with pytest.raises(SettingError, match=r"--sorg-model-config.*models.yaml: model_list\[0\].litellm_params.model"):
        options.resolve(Config(), env={})
    _write(tmp_path, _doc("http://h/v1"))
    assert options.resolve(Config(), env={}).model_config == str(tmp_path / "models.yaml")


def test_router_settings_are_the_routers_keywords() -> None:
    import inspect

    from litellm.router import _router_init

    params = set(inspect.signature(_router_init).parameters) - {"self", "model_list", "_host"}
    assert params == routes.ROUTER_SETTINGS


def test_calls_go_through_the_files_deployments_and_keys_stay_out(tmp_path: Path) -> None:
    with FakeOpenAI() as live, FakeOpenAI() as failing:
        failing.script(*[error(503, "backend down")] * 20)
        doc = _doc(failing.url, live.url)
        doc["model_list"][0]["litellm_params"]["order"] = 1  # the failing one is tried first
        doc["model_list"][1]["litellm_params"]["order"] = 2
        cfg = _write(tmp_path, doc)
        cas, cache = tmp_path / "cas", tmp_path / "cache"
        client = ModelClient(cassette_dir=cas, record="new", cache_dir=cache, retries=3, backoff_s=0.01,
                             timeout_s=20, model_config=cfg, prices={"team-model": {"input": 0, "output": 0}})
        reqs = [_req(f"question {i}", f"s{i}") for i in range(6)]
        got = [client.complete(r) for r in reqs]
        client.close()
        # every request answered; the failing deployment cooled down after its one failure
        assert [c.text for c in got] == [f"echo: question {i}" for i in range(6)]
        assert len(failing.chat_requests()) == 1 and len(live.chat_requests()) == 6
        sent = [{k.lower(): v for k, v in r["headers"].items()} for r in live.chat_requests()]
        assert {h.get("authorization") for h in sent} == {f"Bearer {KEY}"}  # the file's key reached it
    # the deployment is not part of the request: the same key as without any config
    assert [c.key for c in got] == [request_key(r) for r in reqs]
    stored = b"".join(p.read_bytes() for d in (cas, cache) for p in d.rglob("*") if p.is_file())
    assert stored and KEY.encode() not in stored and b"api_key" not in stored and b"127.0.0.1" not in stored
    replay = ModelClient(cassette_dir=cas, record="none", cache_dir=None)  # no config: replays anywhere
    assert replay.complete(reqs[0]).text == "echo: question 0"


def test_a_refused_connection_is_routed_around(tmp_path: Path) -> None:
    with FakeOpenAI() as live:
        doc = _doc(DEAD, live.url)
        doc["model_list"][0]["litellm_params"]["order"] = 1
        doc["model_list"][1]["litellm_params"]["order"] = 2
        client = ModelClient(cassette_dir=None, record="new", cache_dir=None, retries=2, backoff_s=0.01,
                             model_config=_write(tmp_path, doc))
        assert [client.complete(_req(f"q{i}", f"s{i}")).text for i in range(3)] == ["echo: q0", "echo: q1", "echo: q2"]


def test_a_provider_error_never_shows_the_files_key(tmp_path: Path) -> None:
    with FakeOpenAI() as srv:
        srv.script(error(401, f"bad key {PLAIN} for {KEY}"))
        cfg = _write(tmp_path, _doc(srv.url, key=PLAIN))
        client = ModelClient(cassette_dir=None, record="new", cache_dir=None, retries=0, model_config=cfg)
        with pytest.raises(ModelError) as info:
            client.complete(_req("hello", "s0"))
    assert PLAIN not in str(info.value) and KEY not in str(info.value) and "***" in str(info.value)


def test_an_unlisted_model_is_not_routed(tmp_path: Path) -> None:
    from sorg.model.live import LiveCaller

    caller = LiveCaller(0, 1, 1, tmp_path, model_config=_write(tmp_path, _doc("http://h/v1")))
    assert caller.routed("team-model") is not None and caller.routed("openai/gpt-4o") is None


def test_a_routed_reply_is_priced_as_its_deployment_not_as_the_name_the_server_reports(tmp_path: Path) -> None:
    from sorg.model.backends import load_litellm
    from tests.fakes.openai_server import reply

    with FakeOpenAI(default=lambda body: reply("hi", model="gpt-4")) as srv:  # a server calling itself GPT-4
        def dep(name: str, model: str, **kw: Any) -> dict[str, Any]:
            return {"model_name": name, "litellm_params": {"model": model, "api_base": srv.url, "api_key": KEY, **kw}}

        cfg = _write(tmp_path, {"model_list": [
            dep("own-prices", "openai/served", input_cost_per_token=1e-3, output_cost_per_token=1e-3),
            dep("unknown", "openai/served-2"), dep("mini", "openai/gpt-4o-mini")]})
        client = ModelClient(cassette_dir=None, record="new", cache_dir=None, retries=0, model_config=cfg)
        own = client.complete(_req("a", "s0", "own-prices")).cost_usd
        mini = client.complete(_req("b", "s1", "mini")).cost_usd
        with pytest.warns(RuntimeWarning, match="no price known for 'unknown'"):
            unknown = client.complete(_req("c", "s2", "unknown")).cost_usd
    inp, out = load_litellm().cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=11, completion_tokens=7)
    assert own == pytest.approx(18e-3) and mini == pytest.approx(inp + out) and unknown == 0.0


def test_a_placeholder_key_is_no_secret_and_masks_nothing(tmp_path: Path) -> None:
    """vLLM and llama.cpp servers take any key; `none` or `EMPTY` in the file must not turn every
    "none" of every reply into "***"."""
    from sorg.model.redact import redact_text

    for key in ("none", "EMPTY", "no-key-is-needed"):
        routes.load(_write(tmp_path, _doc("http://h/v1", key=key), f"{key}.json"))
    text = "none of the EMPTY rooms: no-key-is-needed"
    assert redact_text(text) == text
    routes.load(_write(tmp_path, _doc("http://h/v1", key=PLAIN), "real.json"))
    assert redact_text(f"the key {PLAIN}") == "the key ***"

