"""The registry a user's protocols and scorers join: decorators, entry points read on first
use, and errors that name where a bad part came from."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from sorg import registry
from sorg.errors import RegistryError
from sorg.protocols import PACKAGED, PROTOCOLS, Protocol, protocol
from sorg.protocols.register import _as_protocol
from sorg.scoring import SCORERS, Score, Scorer, register_scorer
from sorg.scoring.base import _as_scorer


@pytest.fixture
def clean():
    """Registries as they were: whatever a test registers is removed afterwards."""
    before = [(r, list(r._items)) for r in (PROTOCOLS, SCORERS)]
    yield
    for r, names in before:
        for name in [n for n in r._items if n not in names]:
            del r[name]


def test_a_decorated_class_and_function_join_after_the_packaged_protocols(clean):
    @protocol("pairs_x")
    class Pairs(Protocol):
        async def run(self, team):
            return "pairs"

    @protocol(study=False)
    async def solo_draft_x(team):
        """One draft."""
        return "draft"

    assert list(PROTOCOLS)[: len(PACKAGED)] == list(PACKAGED)
    assert list(PROTOCOLS)[-2:] == ["pairs_x", "solo_draft_x"]
    assert isinstance(PROTOCOLS["pairs_x"], Pairs) and PROTOCOLS["pairs_x"].name == "pairs_x"
    assert PROTOCOLS["solo_draft_x"].study is False and PROTOCOLS["solo_draft_x"].__doc__ == "One draft."
    from sorg.protocols import study_protocols

    assert "pairs_x" in study_protocols() and "solo_draft_x" not in study_protocols()


def test_the_same_definition_again_replaces_itself_another_one_is_refused(clean):
    class Again(Protocol):
        async def run(self, team):
            return ""

    protocol("again_x")(Again)
    protocol("again_x")(Again)  # a conftest imported a second time
    with pytest.raises(RegistryError, match=r"two protocols named 'sequential': .*Clash.*sorg\.protocols\.sequential"):
        @protocol("sequential")
        class Clash(Protocol):
            async def run(self, team):
                return ""
    assert type(PROTOCOLS["sequential"]).__module__ == "sorg.protocols.sequential"


@pytest.mark.parametrize("obj, says", [
    (42, "42 is not a protocol"),
    (dict, "builtins.dict is not a protocol"),
    (lambda team: "sync", "is not a protocol"),
    (type("NoRun", (Protocol,), {}), "needs `async def run"),
])
def test_a_non_protocol_is_refused_naming_where_it_came_from(obj, says):
    with pytest.raises(RegistryError, match="from here: .*" + says.replace("(", r"\(").replace("`", ".")):
        _as_protocol(obj, "x", "from here")


def test_scorers_register_as_a_class_or_a_function_and_clash_like_protocols(clean):
    @register_scorer("length_x")
    def length(task, answer):
        return min(1.0, len(answer) / 100)

    @register_scorer
    class Shouty(Scorer):
        name = "shouty_x"

        def compute(self, task, answer):
            return Score(float(answer.isupper()))

    assert SCORERS["length_x"].compute(None, "x" * 50) == Score(0.5)
    assert SCORERS["shouty_x"].compute(None, "HI").value == 1.0
    with pytest.raises(RegistryError, match="two scorers named 'coverage'"):
        register_scorer("coverage")(length)
    with pytest.raises(RegistryError, match="is not a scorer"):
        _as_scorer(object(), "y", "there")
    with pytest.raises(RegistryError, match="needs a non-empty `name`"):
        register_scorer(type("Nameless", (Scorer,), {"compute": lambda self, t, a: Score(1.0)}))


def _installed(root: Path, monkeypatch: pytest.MonkeyPatch, group: str, entry: str, module: str) -> None:
    """A distribution `userpkg` on sys.path with one entry point, as pip would leave it."""
    dist = root / "userpkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: userpkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")
    (root / "userpkg_parts.py").write_text(textwrap.dedent(module))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "userpkg_parts", raising=False)
    registry.rescan()


@pytest.fixture
def fresh_scan():
    yield
    registry.rescan()


def test_an_entry_point_joins_when_the_registry_is_first_read(tmp_path, monkeypatch, fresh_scan):
    _installed(tmp_path, monkeypatch, "sorg.protocols", "relay_x = userpkg_parts:Relay", '''
        from sorg.protocols import Protocol

        class Relay(Protocol):
            async def run(self, team):
                return "relay"
    ''')
    reg = registry.Registry("protocol", "sorg.protocols", _as_protocol)
    assert "userpkg_parts" not in sys.modules  # nothing imported before the first read
    assert list(reg) == ["relay_x"] and reg["relay_x"].name == "relay_x"
    assert "package userpkg" in reg.where("relay_x")


@pytest.mark.parametrize("entry, module, says", [
    ("broken_x = userpkg_parts:Nope", "X = 1\n", r"entry point broken_x = 'userpkg_parts:Nope' \(group sorg.scorers, "
                                                 r"package userpkg\) does not load: AttributeError"),
    ("odd_x = userpkg_parts:X", "X = 1\n", r"entry point odd_x .*: 1 is not a scorer"),
    ("coverage = userpkg_parts:f", "def f(task, answer):\n    return 1.0\n",
     r"two scorers named 'coverage': userpkg_parts.f \(entry point coverage"),
])
def test_a_bad_entry_point_fails_every_read_naming_it(tmp_path, monkeypatch, fresh_scan, entry, module, says):
    _installed(tmp_path, monkeypatch, "sorg.scorers", entry, module)
    reg = registry.Registry("scorer", "sorg.scorers", _as_scorer)
    reg.register("coverage", SCORERS["coverage"], "packaged")
    for _ in range(2):
        with pytest.raises(RegistryError, match=says):
            list(reg)
