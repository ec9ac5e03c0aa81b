"""The README's "Your own model" backend runs as written: its ten lines, given an inference
function, answer a trial's agents and judge through sorg's door."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_backend_answers_a_trial(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own model", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n# conftest.py\n(.*?)```", section, re.S).group(1)

    async def my_inference(prompt, max_tokens, temperature, json_schema):
        if json_schema and json_schema.get("name") == "judge_q":
            return json.dumps({"rationale": "ok", "accuracy": 3, "completeness": 3, "coherence": 3,
                               "actionability": 3, "mission_relevance": 3})
        if json_schema and json_schema.get("name") == "agent_reply":
            return json.dumps({"role": "planner", "contribution": "Book the hall for 40 people.", "abstain": False})
        return "Book the hall for 40 people; lunch at noon."

    from sorg import ModelClient, load_bank, run_trial
    from sorg.model.backends import unregister_backend

    ns = {"my_inference": my_inference}
    exec(compile(code, "README", "exec"), ns)
    try:
        task = next(iter(load_bank(None)))
        client = ModelClient(cassette_dir=None, cache_dir=None)
        rec = run_trial(task, "sequential", "mine/v1", 2, 0, client=client, scorers=("coverage", "judge_q"),
                        judge_model="mine/judge")
    finally:
        unregister_backend("mine")
    assert rec.status == "ok", rec.error
    assert any(r.role_raw == "planner" for r in rec.replies) and rec.quality["judge_q"] == 0.75
    assert rec.model_version == "my-model-2026-01"
