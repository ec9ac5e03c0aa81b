"""Load, validate and select tasks from the bank (JSON data files, never code).

Why validate so strictly: a typo in a task file (a regex that never matches because it does
not compile, a level 5, a duplicated id) would silently skew every quality score of a study.
So the loader refuses a bad file with an error naming the file, the task id and the field, e.g.
``sorg/tasks/bank/curriculum.json: task 'cur-l3-02': field 'rubric.elements[1].patterns[0]':
bad regex '(': missing ), unterminated subpattern at position 0``.

The structure is described by ``schema.json`` (JSON Schema draft-07) and checked by jsonschema
with sorg's messages on top (`sorg.tasks.schema_check`); the checks a schema cannot express
(unique ids, compiling regexes, consistent bounds) follow it.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from sorg.errors import TaskBankError
from sorg.tasks.guards import MAX_DEPTH, json_depth, nested_quantifier
from sorg.tasks.levels import level_problems
from sorg.tasks.schema_check import json_type, validate_schema
from sorg.tasks.task import Constraint, Element, Gap, Rubric, Stakeholder, Task

__all__ = ["Bank", "load_bank", "BANK_DIR", "SCHEMA_PATH", "validate_schema"]

BANK_DIR = Path(__file__).with_name("bank")
SCHEMA_PATH = Path(__file__).with_name("schema.json")


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# semantic checks and building records


class FrozenParams(dict[str, Any]):
    """A constraint's params: read-only, yet a real dict.

    Why a dict subclass rather than MappingProxyType: tasks travel (pickled to xdist workers,
    `dataclasses.asdict` into trial records, `json.dumps` into reports), and a mappingproxy
    survives none of those. Hashable, so a Task can be a dict key or in a set.
    """

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("task constraint params are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenParams, (dict(self),))

    def __copy__(self) -> FrozenParams:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenParams:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, repr(v)) for k, v in self.items())))


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _fail(file: str, task_id: str | None, field: str, message: str) -> TaskBankError:
    where = f"{file}: task {task_id!r}: " if task_id is not None else f"{file}: "
    return TaskBankError(f"{where}field {field!r}: {message}")


_UNBOUNDED = re.compile(r"(?<!\\)\.[*+]")


def _regex_problem(pattern: str) -> str | None:
    if nested_quantifier(pattern):
        return (f"regex {pattern!r} repeats a group that holds a repeat (a nested quantifier such as (a+)+), "
                "which backtracks exponentially on near-miss answers; repeat the inner part once, or use a "
                "character class")
    try:
        re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        return f"bad regex {pattern!r}: {exc}"
    return None


def _semantic_errors(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Checks on one schema-valid task that JSON Schema cannot express."""
    errors: list[tuple[str, str]] = []
    rubric = raw["rubric"]
    seen: set[str] = set()
    for i, el in enumerate(rubric["elements"]):
        base = f"rubric.elements[{i}]"
        if el["id"] in seen:
            errors.append((f"{base}.id", f"duplicate rubric item id {el['id']!r}"))
        seen.add(el["id"])
        for j, pattern in enumerate(el["patterns"]):
            problem = _regex_problem(pattern)
            if problem:
                errors.append((f"{base}.patterns[{j}]", f"must be a non-empty list of regexes ({problem})"))
            elif _UNBOUNDED.search(pattern):
                errors.append((f"{base}.patterns[{j}]",
                               f"regex {pattern!r} has an unbounded wildcard (.* or .+), which takes quadratic "
                               "time on long answers; bound it, e.g. .{0,60}"))
            elif re.search(pattern, "", re.IGNORECASE | re.MULTILINE):
                errors.append((f"{base}.patterns[{j}]",
                               f"regex {pattern!r} matches empty text, so every answer would pass"))
    for i, c in enumerate(rubric.get("constraints", [])):
        base = f"rubric.constraints[{i}]"
        if c["id"] in seen:
            errors.append((f"{base}.id", f"duplicate rubric item id {c['id']!r}"))
        seen.add(c["id"])
        p = c["params"]
        for key in ("pattern", "keyword"):
            if isinstance(p.get(key), str):
                problem = _regex_problem(p[key])
                if problem:
                    errors.append((f"{base}.params.{key}", problem))
        if c["kind"] == "count":
            if "max" in p and p["max"] < p["min"]:
                errors.append((f"{base}.params.max", f"must be >= min ({p['min']}), not {p['max']}"))
            if p.get("scope") == "answer" and "max" in p:
                errors.append((f"{base}.params.max", "not allowed with scope 'answer' (an upper bound over the "
                               "whole answer would make the score drop when text is added)"))
        elif c["kind"] == "range":
            if "min" not in p and "max" not in p:
                errors.append((f"{base}.params", "a range needs min, max or both"))
            elif "min" in p and "max" in p and p["max"] < p["min"]:
                errors.append((f"{base}.params.max", f"must be >= min ({p['min']}), not {p['max']}"))
        elif c["kind"] == "sum":
            if p.get("floor", 0) > p["target"]:
                errors.append((f"{base}.params.floor", f"must be <= target ({p['target']})"))
    return errors


#: The fields that describe a task's level in the study's terms (`sorg.tasks.levels`).
_DESCRIBED = ("domains", "steps", "stakeholders", "missing")


def _level_errors(raw: dict[str, Any], domain: str) -> list[tuple[str, str]]:
    """The task's domains, steps, stakeholders and missing information: consistent with its
    file and rubric, and fitting its level's definition (`sorg.tasks.levels`)."""
    errors: list[tuple[str, str]] = []
    given = [k for k in _DESCRIBED if k in raw]
    if not given:
        return errors  # a task that does not describe itself in the study's terms (a user's bank)
    if len(given) != len(_DESCRIBED):
        lacking = [k for k in _DESCRIBED if k not in raw]
        return [(lacking[0], f"is required when {', '.join(given)} {'is' if len(given) == 1 else 'are'} given: "
                             f"a task describes its level with all of {', '.join(_DESCRIBED)} or none")]
    domains = raw["domains"]
    if domains[0] != domain:
        errors.append(("domains[0]", f"must be the file's domain {domain!r}, not {domains[0]!r}"))
    for field, values in (("domains", domains), ("steps", raw["steps"]),
                          ("stakeholders", [s["name"] for s in raw["stakeholders"]])):
        seen: set[str] = set()
        for i, v in enumerate(values):
            key = v.lower()
            if key in seen:
                errors.append((f"{field}[{i}]", f"duplicate {v!r}"))
            seen.add(key)
    element_ids = {e["id"] for e in raw["rubric"]["elements"]}
    for i, gap in enumerate(raw["missing"]):
        if gap["element"] not in element_ids:
            errors.append((f"missing[{i}].element", f"{gap['element']!r} is not a rubric element of this task "
                                                     f"(elements: {', '.join(sorted(element_ids))})"))
    errors.extend(level_problems(raw["level"], raw["prompt"], domains, raw["steps"], raw["stakeholders"],
                                 raw["missing"]))
    return errors


def _build_task(raw: dict[str, Any], domain: str, source: str) -> Task:
    rubric = raw["rubric"]
    elements = tuple(
        Element(
            id=e["id"],
            description=e["description"],
            patterns=tuple(e["patterns"]),
            weight=float(e.get("weight", 1.0)),
        )
        for e in rubric["elements"]
    )
    constraints = tuple(
        Constraint(
            id=c["id"],
            kind=c["kind"],
            description=c["description"],
            params=FrozenParams(c["params"]),
            weight=float(c.get("weight", 1.0)),
        )
        for c in rubric.get("constraints", [])
    )
    return Task(
        id=raw["id"],
        domain=domain,
        level=int(raw["level"]),
        title=raw["title"],
        prompt=raw["prompt"],
        rubric=Rubric(elements=elements, constraints=constraints),
        source=source,
        domains=tuple(raw.get("domains", (domain,))),
        steps=tuple(raw.get("steps", ())),
        stakeholders=tuple(Stakeholder(name=x["name"], wants=x["wants"]) for x in raw.get("stakeholders", ())),
        missing=tuple(Gap(what=x["what"], element=x["element"]) for x in raw.get("missing", ())),
    )


def _load_file(path: Path) -> list[Task]:
    shown = _display(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TaskBankError(f"{shown}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskBankError(f"{shown}: cannot read task file: {exc}") from None
    except RecursionError:
        raise TaskBankError(f"{shown}: JSON nested too deep for a task file") from None
    if json_depth(data) > MAX_DEPTH:
        raise TaskBankError(f"{shown}: JSON nested deeper than {MAX_DEPTH} levels; a task file needs about 6")
    schema = _schema()
    if not isinstance(data, dict):
        raise _fail(shown, None, "(top level)", f"must be an object with 'domain' and 'tasks', not {json_type(data)}")
    file_schema = {k: v for k, v in schema.items() if k != "properties"}
    file_schema["properties"] = {**schema["properties"], "tasks": {"type": "array", "minItems": 1}}
    errors = validate_schema(data, file_schema, schema)
    if errors:
        raise _fail(shown, None, *errors[0])
    tasks = []
    for index, raw in enumerate(data["tasks"]):
        task_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index}"
        errors = validate_schema(raw, {"$ref": "#/definitions/task"}, schema)
        if not errors:
            errors = _semantic_errors(raw) or _level_errors(raw, data["domain"])
        if errors:
            raise _fail(shown, task_id, *errors[0])
        tasks.append(_build_task(raw, data["domain"], shown))
    return tasks


# ---------------------------------------------------------------------------------------------
# the bank


class Bank:
    """A validated, immutable collection of tasks; iteration is in id order."""

    def __init__(self, tasks: Iterable[Task]):
        ordered = sorted(tasks, key=lambda t: t.id)
        self._tasks: tuple[Task, ...] = tuple(ordered)
        self._by_id = {t.id: t for t in ordered}
        if len(self._by_id) != len(self._tasks):
            raise TaskBankError("duplicate task ids in bank")

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._by_id

    def __repr__(self) -> str:
        return f"Bank({len(self)} tasks, domains={list(self.domains)}, levels={list(self.levels)})"

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(sorted({t.domain for t in self._tasks}))

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(sorted({t.level for t in self._tasks}))

    def get(self, task_id: str) -> Task:
        """The task with this id; KeyError with the closest ids if there is none."""
        try:
            return self._by_id[task_id]
        except KeyError:
            close = difflib.get_close_matches(str(task_id), list(self._by_id), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no task {task_id!r} in the bank{hint}") from None

    def select(
        self,
        levels: Sequence[int] | int = (1, 2, 3, 4),
        domains: Sequence[str] | str | None = None,
        per_level: int | None = None,
    ) -> list[Task]:
        """Tasks of the given levels (and domains), level by level.

        Deterministic: within a level, tasks are taken round-robin over the domains (sorted),
        each domain's tasks in id order, so ``per_level=3`` gives three different domains rather
        than the three alphabetically first tasks of one. The round-robin starts one domain
        further at each level, so ``per_level=1`` over four levels spans four domains rather
        than asking one domain at every level. ``per_level`` is an upper bound.
        Unknown levels or domains raise ValueError (a typo must not yield an empty study).
        """
        if isinstance(levels, int):
            levels = (levels,)
        if isinstance(domains, str):
            domains = (domains,)
        for level in levels:
            if level not in (1, 2, 3, 4):
                raise ValueError(f"level must be 1..4, not {level!r}")
        if domains is not None:
            unknown = sorted(set(domains) - set(self.domains))
            if unknown:
                raise ValueError(f"unknown domain(s) {unknown}; the bank has {list(self.domains)}")
        if per_level is not None and per_level < 0:
            raise ValueError(f"per_level must be >= 0, not {per_level}")
        out: list[Task] = []
        for level in sorted(set(levels)):
            pool = [t for t in self._tasks if t.level == level and (domains is None or t.domain in domains)]
            names = sorted({t.domain for t in pool})
            shift = (level - 1) % len(names) if names else 0
            names = names[shift:] + names[:shift]
            queues = {d: [t for t in pool if t.domain == d] for d in names}
            picked: list[Task] = []
            depth = 0
            while any(depth < len(q) for q in queues.values()):
                for q in queues.values():
                    if depth < len(q):
                        picked.append(q[depth])
                depth += 1
            out.extend(picked if per_level is None else picked[:per_level])
        return out


def stream_order(tasks: Sequence[Task]) -> list[Task]:
    """Tasks reordered for streams: the first task of each level (in level order), then the
    second of each level, and so on; within that, the order given.

    Why: cut into streams of one task per level, a selection of two tasks per level gives two
    streams that each climb L1 -> L4, and the first stream is the same as with one task per
    level, so a sweep that grows keeps (and replays) the streams it already has.
    """
    rank: dict[int, int] = {}
    keyed = []
    for i, t in enumerate(tasks):
        k = rank.get(t.level, 0)
        rank[t.level] = k + 1
        keyed.append((k, i, t))
    return [t for _, _, t in sorted(keyed, key=lambda x: (x[0], x[1]))]


@lru_cache(maxsize=1)
def _default_bank() -> Bank:
    return _load_dir(BANK_DIR)


def _load_dir(directory: Path) -> Bank:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise TaskBankError(f"{_display(directory)}: no task files (*.json) found")
    return _merge(files)


def _merge(files: Sequence[Path]) -> Bank:
    tasks: list[Task] = []
    origin: dict[str, str] = {}
    for path in files:
        for task in _load_file(path):
            if task.id in origin:
                raise _fail(task.source, task.id, "id", f"duplicate task id (also in {origin[task.id]})")
            origin[task.id] = task.source
            tasks.append(task)
    return Bank(tasks)


def load_bank(path: str | os.PathLike[str] | None = None) -> Bank:
    """The validated task bank: the packaged one (cached) or a directory / single file.

    Raises TaskBankError naming the file, the task id and the field of the first problem.
    """
    if path is None:
        return _default_bank()
    p = Path(path)
    if p.is_dir():
        return _load_dir(p)
    if p.is_file():
        return _merge([p])
    raise TaskBankError(f"{_display(p)}: no such task file or directory")
