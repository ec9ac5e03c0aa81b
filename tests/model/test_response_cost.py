"""Cost is taken from the provider's whole response, so cached-token discounts count; a price
the project set still wins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sorg.model.backends import RawReply
from sorg.model.client import ModelClient
from tests.model.helpers import make_request

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network for the cost map


def _response(cached: int):
    from litellm import ModelResponse

    return ModelResponse(
        model="gpt-4o-mini",
        choices=[{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop", "index": 0}],
        usage={"prompt_tokens": 1000, "completion_tokens": 10, "total_tokens": 1010,
               "prompt_tokens_details": {"cached_tokens": cached}})


def test_cached_prompt_tokens_cost_less() -> None:
    # before: cost = prompt_tokens x list price + completion_tokens x price, cached or not
    import litellm

    from sorg.model.backends import response_cost

    full = response_cost(_response(0), "openai/gpt-4o-mini")
    cached = response_cost(_response(800), "openai/gpt-4o-mini")
    inp, out = litellm.cost_per_token(model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=10)
    assert full == pytest.approx(inp + out)
    assert cached is not None and cached < full * 0.75


def test_an_unmapped_model_has_no_response_cost() -> None:
    from litellm import ModelResponse

    from sorg.model.backends import response_cost

    resp = ModelResponse(model="no-such-model-xyz", choices=[{"message": {"role": "assistant", "content": "x"},
                                                              "finish_reason": "stop", "index": 0}],
                         usage={"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10})
    assert response_cost(resp, "openai/no-such-model-xyz") is None


def test_a_project_price_wins_over_the_response_cost(tmp_path: Path, fake_backend) -> None:
    fake_backend.faults = [RawReply("priced", 10, 10, cost_usd=0.123)]
    c = ModelClient(cassette_dir=None, record="all", cache_dir=None, prices={"fake/m": {"input": 1e-3, "output": 2e-3}})
    assert c.complete(make_request()).cost_usd == pytest.approx(10 * 1e-3 + 10 * 2e-3)
    fake_backend.faults = [RawReply("priced", 10, 10, cost_usd=0.123)]
    c = ModelClient(cassette_dir=None, record="all", cache_dir=None, prices={})
    assert c.complete(make_request(sample="s1")).cost_usd == 0.123
