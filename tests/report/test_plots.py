"""Plots: one colour per protocol across every figure of a report, and the quality axis says
which quality it is (the judge's Q), not a name it is not."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from sorg.report import plots  # noqa: E402


def test_each_protocol_keeps_one_distinct_colour():
    names = [f"p{i:02d}" for i in range(12)]
    colours = plots.protocol_colours(list(reversed(names)))
    assert len(set(colours.values())) == 12  # tab20 beyond ten: no two protocols share one
    assert colours == plots.protocol_colours(names)  # the same whatever order they come in


def test_every_figure_gets_the_same_colours_and_labels_the_judge(tmp_path, monkeypatch):
    seen = []
    rows = [{"model": "m", "protocol": p, "n_agents": n, "trials": 3, "tasks": 3,
             "quality": {"mean": 0.5, "ci": [0.4, 0.6]}, "cost_usd": {"mean": 0.01, "ci": None}}
            for p in ("a", "b") for n in (4, 8)]
    labels: list[str] = []
    real = plots.protocol_colours
    monkeypatch.setattr(plots, "protocol_colours", lambda ps: seen.append(real(ps)) or seen[-1])
    from matplotlib.figure import Figure

    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: (labels.extend(ax.get_ylabel() for ax in fig.axes),
                                                                 save(fig, *a, **k))[1])
    out = plots.write_plots(tmp_path, rows)
    assert [p.name for p in out] == list(plots.PLOTS) and len(seen) == 1  # one map for all three
    quality_axes = [lab for lab in labels if "cost" not in lab]
    assert len(quality_axes) == 3 and all(lab.startswith("judge Q") for lab in quality_axes), labels
