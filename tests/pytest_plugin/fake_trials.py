"""A fake trial runner for the plugin's tests: deterministic TrialRecords without a model.

Copied into each pytester project as `sorg_fake.py`. Quality depends on the protocol (so
claims have something to find) plus noise from (task, seed, n_agents); the env var
SORG_FAKE_SLEEP slows each trial (for the kill test); SORG_FAKE_LOG appends one line per trial
actually computed (to tell computed from replayed). With SORG_FAKE_BUDGET=1 broadcast trials
are cut by the budget (status "budget"); a rerun without it completes them (a resumed run).
"""

from __future__ import annotations

import hashlib
import os
import time

from sorg.record import TrialRecord

BASE = {"sequential": 0.80, "coordinator": 0.50, "shared": 0.62, "single": 0.30}


def _noise(*parts: object) -> float:
    h = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return (int.from_bytes(h[:4], "big") / 2**32 - 0.5) * 0.2  # +-0.1


def fake_run_trial(task, protocol, model, n_agents, seed, *, client=None, judge_model=None, label="", **kw):
    if os.environ.get("SORG_FAKE_SLEEP"):
        time.sleep(float(os.environ["SORG_FAKE_SLEEP"]))
    tid = f"{task.id}|{protocol}|{model}|n{n_agents}|s{seed}"
    if os.environ.get("SORG_FAKE_LOG"):
        with open(os.environ["SORG_FAKE_LOG"], "a") as fh:
            fh.write(tid + "\n")
    q = min(1.0, max(0.0, BASE.get(protocol, 0.55) + _noise(task.id, seed, n_agents, protocol)))
    status = "budget" if protocol == "broadcast" and os.environ.get("SORG_FAKE_BUDGET") else "ok"
    return TrialRecord(
        trial_id=tid, task_id=task.id, level=task.level, domain=task.domain, protocol=protocol,
        model=model, n_agents=n_agents, seed=seed, answer=f"answer of {tid}",
        quality={"rubric": q, "judge_q": q, "coverage": q}, cost_usd=1e-5 * n_agents ** 0.5, prompt_tokens=100 * n_agents,
        completion_tokens=20 * n_agents, calls=n_agents, latency_s=0.01, max_prompt_tokens=300,
        per_agent=(), per_round=(), replies=(), unique_roles=min(n_agents, 3),
        roles=("planner", "writer", "critic")[: min(n_agents, 3)], role_entropy=1.0,
        abstention_rate=0.25, hierarchy_depth=1, parse_failure_rate=0.0, sources={"cassette": n_agents},
        status=status, error="budget spent" if status == "budget" else "", prompt_version="p1",
    )
