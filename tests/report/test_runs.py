"""`sorg runs list|prune`: prune keeps the newest N unnamed runs, every named run and the
latest, lists before it removes, and removes only with --apply."""

from __future__ import annotations

from pathlib import Path

from sorg import cli
from sorg.store import point_latest


def _run(root: Path, name: str, trials: int = 2) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "trials.jsonl").write_text("{}\n" * trials, encoding="utf-8")
    return d


def test_prune_keeps_newest_named_and_latest(tmp_path, capsys):
    ids = [f"20261201-00000{i}-100" for i in range(5)]
    for i in ids:
        _run(tmp_path, i)
    _run(tmp_path, "base")  # named: kept whatever its age
    point_latest(tmp_path, tmp_path / ids[0])  # the oldest is latest: kept too
    (tmp_path / "README.md").write_text("not a run")
    assert cli.main(["runs", "list", "--report-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert "6 runs" in listed and f"{ids[0]} (latest)" in listed and "named" in listed
    assert cli.main(["runs", "prune", "--keep", "2", "--report-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert sorted(ln.split()[2] for ln in out.splitlines() if ln.startswith("would remove /")) == \
        [str(tmp_path / ids[1]), str(tmp_path / ids[2])]
    assert all((tmp_path / i).exists() for i in ids)  # nothing removed without --apply
    assert cli.main(["runs", "prune", "--keep", "2", "--report-dir", str(tmp_path), "--apply"]) == 0
    left = sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and not p.is_symlink())
    assert left == sorted([ids[0], ids[3], ids[4], "base"])
    assert (tmp_path / "latest").resolve() == (tmp_path / ids[0]).resolve()


def test_prune_with_nothing_to_do_and_a_missing_dir(tmp_path, capsys):
    assert cli.main(["runs", "prune", "--report-dir", str(tmp_path)]) == 0
    assert "would remove 0 runs" in capsys.readouterr().out
    assert cli.main(["runs", "list", "--report-dir", str(tmp_path / "nope")]) == 2
