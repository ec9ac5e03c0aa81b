"""The packaged bank's invariants, selection, and the loader's refusal of bad task files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from sorg.errors import TaskBankError
from sorg.tasks import Bank, Task, load_bank
from sorg.tasks.bank import BANK_DIR, SCHEMA_PATH

NUMERIC_KINDS = {"sum", "range", "count"}


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank()


def test_bank_size_levels_and_domains(bank: Bank) -> None:
    assert len(bank) >= 48
    levels = Counter(t.level for t in bank)
    assert set(levels) == {1, 2, 3, 4}
    assert all(n >= 12 for n in levels.values()), levels
    assert len(bank.domains) >= 6
    assert len({t.id for t in bank}) == len(bank)
    assert all(isinstance(t, Task) for t in bank)


def test_every_task_is_well_formed(bank: Bank) -> None:
    for t in bank:
        assert t.rubric.elements, t.id
        assert len(t.prompt.split()) <= 120, (t.id, len(t.prompt.split()))
        assert t.source.endswith(f"{t.domain}.json"), t.source
        assert t.id == t.id.lower()


def test_level4_tasks_have_numeric_constraints_and_more_parts(bank: Bank) -> None:
    for t in bank:
        if t.level == 4:
            kinds = {c.kind for c in t.rubric.constraints}
            assert "sum" in kinds, f"{t.id}: a level-4 task needs a sum to add up"
            assert len(t.rubric.elements) + len(t.rubric.constraints) >= 8, t.id
        if t.level == 1:
            assert len(t.rubric.elements) <= 5, t.id
            assert not any(c.kind == "sum" for c in t.rubric.constraints), t.id


def test_complexity_grows_with_level(bank: Bank) -> None:
    mean_items = {}
    for level in (1, 2, 3, 4):
        tasks = [t for t in bank if t.level == level]
        mean_items[level] = sum(len(t.rubric.elements) + len(t.rubric.constraints) for t in tasks) / len(tasks)
    assert mean_items[1] < mean_items[2] < mean_items[3] < mean_items[4], mean_items


def test_default_bank_is_cached(bank: Bank) -> None:
    assert load_bank() is bank
    assert load_bank(BANK_DIR) is not bank  # an explicit path always reads the files
    assert len(load_bank(BANK_DIR)) == len(bank)


def test_get_and_contains(bank: Bank) -> None:
    t = bank.get("evt-l1-01")
    assert t.level == 1 and t.domain == "event_planning"
    assert "evt-l1-01" in bank
    with pytest.raises(KeyError, match="evt-l1-01"):
        bank.get("evt-l1-1")


def test_select_is_deterministic_and_spread_across_domains(bank: Bank) -> None:
    picked = bank.select(per_level=3)
    assert len(picked) == 12
    assert picked == bank.select(per_level=3)
    for level in (1, 2, 3, 4):
        at = [t for t in picked if t.level == level]
        assert len(at) == 3
        assert len({t.domain for t in at}) == 3
    assert [t.level for t in picked] == sorted(t.level for t in picked)
    everything = bank.select()
    assert sorted(t.id for t in everything) == sorted(t.id for t in bank)


def test_select_filters(bank: Bank) -> None:
    l4 = bank.select(levels=(4,))
    assert l4 and all(t.level == 4 for t in l4)
    assert bank.select(levels=4) == l4
    cur = bank.select(domains=["curriculum"], levels=(1, 2))
    assert cur and all(t.domain == "curriculum" and t.level in (1, 2) for t in cur)
    assert bank.select(per_level=0) == []
    assert len(bank.select(levels=(1,), per_level=100)) == sum(t.level == 1 for t in bank)
    with pytest.raises(ValueError, match="level"):
        bank.select(levels=(5,))
    with pytest.raises(ValueError, match="unknown domain"):
        bank.select(domains=["cooking"])


# ---------------------------------------------------------------------------------------------
# the loader's errors


def _good_task(task_id: str = "tst-l1-01", domain: str = "testing") -> dict:
    return {
        "id": task_id,
        "level": 2,
        "title": "A test task",
        "prompt": "Plan something small for Ann Lee with a venue and a budget of at most $100.",
        "domains": [domain],
        "steps": ["pick a venue", "list the costs", "keep them within $100", "tell Ann Lee"],
        "stakeholders": [{"name": "Ann Lee", "wants": "a cheap venue"}],
        "missing": [],
        "rubric": {
            "elements": [
                {"id": "venue", "description": "names a venue", "patterns": ["venue|hall"]},
                {"id": "budget", "description": "gives a budget", "patterns": ["budget", "\\$\\d"]},
            ],
            "constraints": [
                {"id": "cap", "kind": "sum", "description": "at most $100",
                 "params": {"unit": "currency", "target": 100, "op": "le"}},
            ],
        },
    }


def _write(tmp_path: Path, tasks: list, name: str = "testing.json", domain: str = "testing") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"domain": domain, "tasks": tasks}), encoding="utf-8")
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    b = load_bank(_write(tmp_path, [_good_task()]))
    assert len(b) == 1 and b.get("tst-l1-01").rubric.constraints[0].params["target"] == 100
    assert len(load_bank(tmp_path)) == 1


def _mutate(fn):
    task = _good_task()
    fn(task)
    return task


BAD_CASES = [
    ("bad regex", lambda t: t["rubric"]["elements"][1]["patterns"].__setitem__(0, "("),
     "rubric.elements[1].patterns[0]", "bad regex '('"),
    ("empty pattern list", lambda t: t["rubric"]["elements"][0].__setitem__("patterns", []),
     "rubric.elements[0].patterns", "at least 1"),
    ("pattern matching empty text", lambda t: t["rubric"]["elements"][0]["patterns"].__setitem__(0, "x*"),
     "rubric.elements[0].patterns[0]", "matches empty text"),
    ("unbounded wildcard", lambda t: t["rubric"]["elements"][0]["patterns"].__setitem__(0, "and.*or"),
     "rubric.elements[0].patterns[0]", "unbounded wildcard"),
    ("level 5", lambda t: t.__setitem__("level", 5), "level", "must be <= 4"),
    ("level as string", lambda t: t.__setitem__("level", "2"), "level", "must be integer"),
    ("missing prompt", lambda t: t.pop("prompt"), "prompt", "is required"),
    ("unknown field", lambda t: t.__setitem__("promt", "x"), "promt", "unknown field"),
    ("no elements", lambda t: t["rubric"].__setitem__("elements", []), "rubric.elements", "at least 1"),
    ("unknown kind", lambda t: t["rubric"]["constraints"][0].__setitem__("kind", "average"),
     "rubric.constraints[0].kind", "must be one of"),
    ("sum without target", lambda t: t["rubric"]["constraints"][0]["params"].pop("target"),
     "rubric.constraints[0].params.target", "is required"),
    ("sum with bad unit", lambda t: t["rubric"]["constraints"][0]["params"].__setitem__("unit", "apples"),
     "rubric.constraints[0].params.unit", "must be one of"),
    ("count max over answer", lambda t: t["rubric"]["constraints"].__setitem__(0, {
        "id": "n", "kind": "count", "description": "d", "params": {"min": 2, "max": 3, "scope": "answer"}}),
     "rubric.constraints[0].params.max", "scope 'answer'"),
    ("count max below min", lambda t: t["rubric"]["constraints"].__setitem__(0, {
        "id": "n", "kind": "count", "description": "d", "params": {"min": 4, "max": 3}}),
     "rubric.constraints[0].params.max", "must be >= min"),
    ("range without bounds", lambda t: t["rubric"]["constraints"].__setitem__(0, {
        "id": "r", "kind": "range", "description": "d", "params": {"keyword": "x"}}),
     "rubric.constraints[0].params", "min, max"),
    ("range bad keyword regex", lambda t: t["rubric"]["constraints"].__setitem__(0, {
        "id": "r", "kind": "range", "description": "d", "params": {"keyword": "[a", "min": 1}}),
     "rubric.constraints[0].params.keyword", "bad regex"),
    ("duplicate item id", lambda t: t["rubric"]["constraints"][0].__setitem__("id", "venue"),
     "rubric.constraints[0].id", "duplicate rubric item id"),
    ("zero weight", lambda t: t["rubric"]["elements"][0].__setitem__("weight", 0),
     "rubric.elements[0].weight", "must be > 0"),
    ("bad id", lambda t: t.__setitem__("id", "Has Spaces"), "id", "does not match"),
    ("level rule: missing domains", lambda t: t.pop("domains"), "domains", "is required"),
    ("level rule: missing stakeholders", lambda t: t.pop("stakeholders"), "stakeholders", "is required"),
    ("stakeholder without wants", lambda t: t["stakeholders"][0].pop("wants"), "stakeholders[0].wants", "is required"),
    ("gap without element", lambda t: t.__setitem__("missing", [{"what": "the date"}]), "missing[0].element", "is required"),
    ("empty step", lambda t: t["steps"].__setitem__(0, ""), "steps[0]", "at least 1 characters"),
    ("level rule: file's domain not first", lambda t: t.__setitem__("domains", ["other", "testing"]),
     "domains[0]", "the file's domain 'testing'"),
    ("level rule: duplicate domain", lambda t: t.__setitem__("domains", ["testing", "testing"]), "domains[1]", "duplicate"),
    ("level rule: gap element not in rubric", lambda t: t.__setitem__("missing", [{"what": "the date", "element": "nope"}]),
     "missing[0].element", "is not a rubric element"),
    ("level rule: stakeholder not in prompt", lambda t: t["stakeholders"].append({"name": "Bo Chen", "wants": "x"}),
     "stakeholders[1].name", "not named in the prompt"),
    ("level rule: too few steps for L2", lambda t: t.__setitem__("steps", ["pick a venue"]),
     "steps", "a level-2 task has 4 to 6 step(s), this one has 1"),
    ("level rule: L1 with a missing item", lambda t: (t.__setitem__("level", 1), t.__setitem__("missing", [{"what": "the date", "element": "venue"}])),
     "missing", "a level-1 task has exactly 0 missing item(s), this one has 1"),
    ("level rule: L4 in one domain", lambda t: t.__setitem__("level", 4),
     "domains", "a level-4 task has at least 3 domain(s), this one has 1"),
    ("level rule: L4 with one stakeholder", lambda t: (t.__setitem__("level", 4), t.__setitem__("domains", ["testing", "a", "b"]),
                                                   t["steps"].extend(["x", "y"])),
     "stakeholders", "a level-4 task has at least 2 stakeholder(s)"),
]


@pytest.mark.parametrize("mutation, field, message", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_task_is_rejected_naming_file_task_and_field(tmp_path: Path, mutation, field: str, message: str) -> None:
    task = _mutate(mutation)
    path = _write(tmp_path, [_good_task("tst-ok-01"), task])
    with pytest.raises(TaskBankError) as info:
        load_bank(path)
    text = str(info.value)
    assert "testing.json" in text, text
    assert f"task {task['id']!r}" in text, text
    assert f"field {field!r}" in text, text
    assert message in text, text


def test_task_without_id_is_named_by_position(tmp_path: Path) -> None:
    task = _good_task()
    del task["id"]
    with pytest.raises(TaskBankError, match=r"testing\.json: task '#1': field 'id': is required"):
        load_bank(_write(tmp_path, [_good_task("tst-ok-01"), task]))


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    _write(tmp_path, [_good_task("dup-l1-01", "alpha")], name="a.json", domain="alpha")
    _write(tmp_path, [_good_task("dup-l1-01", "beta")], name="b.json", domain="beta")
    with pytest.raises(TaskBankError) as info:
        load_bank(tmp_path)
    text = str(info.value)
    assert "b.json" in text and "a.json" in text and "'dup-l1-01'" in text and "duplicate task id" in text


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"domain": "x", "tasks": [', "invalid JSON at line 1"),
        ('[1, 2]', "must be an object"),
        ('{"tasks": []}', "field 'domain': is required"),
        ('{"domain": "x", "tasks": []}', "field 'tasks': must have at least 1"),
        ('{"domain": "Bad Domain", "tasks": [{}]}', "field 'domain'"),
        ('{"domain": "x", "tasks": [{}], "extra": 1}', "field 'extra': unknown field"),
    ],
)
def test_bad_file_level_content(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TaskBankError) as info:
        load_bank(path)
    assert "broken.json" in str(info.value) and message in str(info.value), str(info.value)


def test_missing_path_and_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(TaskBankError, match="no task files"):
        load_bank(tmp_path)
    with pytest.raises(TaskBankError, match="no such task file"):
        load_bank(tmp_path / "nope.json")


def test_schema_agrees_with_jsonschema_when_available() -> None:
    """Cross-check our small validator's schema against the reference implementation."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for path in sorted(BANK_DIR.glob("*.json")):
        errors = list(validator.iter_errors(json.loads(path.read_text(encoding="utf-8"))))
        assert not errors, (path, errors[0].message)
    for name, mutation, _field, _msg in BAD_CASES:
        task = _mutate(mutation)
        schema_level = not any(w in name for w in ("regex", "empty text", "wildcard", "over answer", "below min", "without bounds", "duplicate", "level rule"))
        if schema_level:
            assert list(validator.iter_errors({"domain": "x", "tasks": [task]})), name


def test_loaded_params_are_read_only(bank: Bank) -> None:
    c = bank.get("evt-l4-01").rubric.constraints[0]
    with pytest.raises(TypeError):
        c.params["target"] = 1  # type: ignore[index]


def test_tasks_survive_pickle_asdict_json_and_hashing(bank: Bank) -> None:
    """Tasks travel to xdist workers and into trial records and reports."""
    import dataclasses
    import pickle

    for task in bank:
        assert pickle.loads(pickle.dumps(task)) == task
        json.dumps(dataclasses.asdict(task))
    assert len(set(bank)) == len(bank)
