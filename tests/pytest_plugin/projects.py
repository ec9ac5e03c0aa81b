"""The small eval suite the plugin's end-to-end tests run: a fake trial runner, a sweep of
26 trial tests (4 tasks x 3 protocols x 2 seeds + 2 scaling tests) and six claims.

The claims judge at alpha=0.3, not 0.05: with 4 tasks the smallest p a one-sided test can
reach is 2**-4 = 0.0625 (sign flips; t is capped there), and Holm over the 4 claims with a p
makes it 0.25, so at 0.05 every claim is "undecidable" and the plugin's mechanics (pass, fail,
xfail, Holm family, --lf, xdist) would have no verdict to carry. 0.3 keeps the sweep small (a
larger one would double every run here) and leaves the fake effect (0.80 vs 0.50) decidable.
"""

from pathlib import Path

FAKE = (Path(__file__).parent / "fake_trials.py").read_text()

CONFTEST = '''
import pytest
import sorg_fake

@pytest.fixture(scope="session")
def sorg_runner():
    return sorg_fake.fake_run_trial

@pytest.fixture(scope="session")
def sorg_client():
    return None
'''

INI = '''
[pytest]
# mechanics, not measurement: the fake runner's qualities never went through the instrument gate
sorg_gate = off
sorg_models = fake/m
sorg_protocols = sequential,coordinator,broadcast
sorg_agents = 4
sorg_levels = 1,2
sorg_tasks_per_level = 2
sorg_seeds = 2
sorg_cache_dir = none
sorg_cassette_dir = none
'''

EVALS = '''
import pytest

def test_protocol(sorg_trial, task, protocol, n_agents, model, seed):
    r = sorg_trial(task, protocol, model, n_agents, seed)
    assert r.status in ("ok", "budget"), r.error

@pytest.mark.sorg(protocols=["sequential"], agents=[4, 16], levels=[1], tasks_per_level=1, seeds=1)
def test_scaling(sorg_trial, task, protocol, n_agents, model, seed):
    sorg_trial(task, protocol, model, n_agents, seed)
'''

CLAIMS = '''
import pytest
from sorg import claims

# alpha=0.3: 4 tasks cannot reach p < 0.05 (tests/pytest_plugin/projects.py says why)

@claims.claim
def test_sequential_beats_coordinator(trials):
    return claims.beats(trials, "sequential", "coordinator", alpha=0.3, test="t")

@claims.claim
def test_coordinator_beats_sequential(trials):
    return claims.beats(trials, "coordinator", "sequential", alpha=0.3, test="t")

@claims.claim
def test_needs_a_model_we_lack(trials):
    if "openai/gpt-4o" not in trials.models:  # a declared skip: a model the run may lack is named here
        return claims.skip("needs a closed model: no trials for openai/gpt-4o in this run")
    return claims.beats(trials, "sequential", "coordinator", alpha=0.3, test="t", model="openai/gpt-4o")

@pytest.mark.xfail(strict=True, reason="measured: coordinator is worse here")
@claims.claim
def test_xfail_strict_holds(trials):
    return claims.beats(trials, "coordinator", "sequential", alpha=0.3, test="t")

@pytest.mark.xfail(strict=True, reason="expected to fail but holds")
@claims.claim
def test_xpass_strict(trials):
    return claims.beats(trials, "sequential", "coordinator", alpha=0.3, test="t")

@claims.claim
def test_skips_itself(trials):
    pytest.skip("not today")
'''
