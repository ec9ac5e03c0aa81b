"""Prices: pyproject's [tool.sorg.prices] and ModelClient(prices=...) override litellm's map."""

from __future__ import annotations

from pathlib import Path

import pytest

from sorg import options
from sorg.model.pricing import Prices, find_pyproject, load_price_table

PYPROJECT = """
[project]
name = "x"
[tool.sorg.prices]
"local/tiny" = { input = 1e-6, output = 3e-6 }
"openai/gpt-4o" = { input = 0.5, output = 1.0 }
"""


def test_pyproject_is_found_upward_and_parsed(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_pyproject() == tmp_path / "pyproject.toml"
    with options.settings_from(None):  # a script, not a pytest run: the nearest pyproject
        prices = Prices()
    assert prices.cost("local/tiny", 1000, 100) == pytest.approx(1000 * 1e-6 + 100 * 3e-6)
    assert prices.cost("openai/gpt-4o", 2, 2) == pytest.approx(3.0)  # overrides litellm's own price


def test_explicit_prices_override_pyproject(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    with options.settings_from(None):
        prices = Prices({"local/tiny": {"input": 0, "output": 1}})
    assert prices.cost("local/tiny", 1000, 7) == 7


def test_unknown_model_costs_zero_with_one_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    prices = Prices(pyproject=None)
    with pytest.warns(RuntimeWarning, match=r"no price known for 'x/unknown'.*tool\.sorg\.prices"):
        assert prices.cost("x/unknown", 10, 10) == 0.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert prices.cost("x/unknown", 10, 10) == 0.0  # warned once only


def test_litellm_cost_map_is_used_for_known_models(tmp_path: Path, monkeypatch) -> None:
    from sorg.model.backends import load_litellm

    load_litellm()
    prices = Prices(pyproject=None)
    assert prices.cost("openai/gpt-4o", 1_000_000, 0, "gpt-4o") > 0.5  # litellm's offline map: USD 2.5 / M input


@pytest.mark.parametrize("bad, match", [
    ('"m/x" = 3', "must be a table"),
    ('"m/x" = { input = 1 }', "must be a table"),
    ('"m/x" = { input = "a", output = 1 }', "must be numbers"),
    ('"m/x" = { input = -1, output = 1 }', "must not be negative"),
])
def test_bad_price_table_names_file_and_model(tmp_path: Path, bad: str, match: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.sorg.prices]\n{bad}\n")
    with pytest.raises(ValueError, match=match) as err:
        load_price_table(path)
    assert str(path) in str(err.value) and "'m/x'" in str(err.value)


def test_repo_pyprojects_local_price(monkeypatch) -> None:
    repo = Path(__file__).resolve().parents[2]
    table = load_price_table(repo / "pyproject.toml")
    assert table["local/smollm2-135m"][0] > 0
