"""World files: the presets load, and a bad file says which file and which field."""

from __future__ import annotations

import pytest

from sorg.sim import WorldError, expand_models, load_world, register_world, split_model, world_names


def test_presets_load_and_declare_their_truths():
    for name in ("paper", "null", "random", "judge-coverage", "judge-constant", "judge-counting"):
        assert name in world_names()
        world = load_world(name)
        assert world.name == name and world.description
    paper = load_world("paper")
    assert {"sequential_over_coordinator", "spread", "abstention", "capability"} <= set(paper.truths)
    assert paper.model("closed").roles == ("closed", "strong")


def test_sim_world_expands_to_its_models_and_names_unknown_ones():
    assert expand_models(["sim/paper", "local/x"]) == ["sim/paper/closed", "sim/paper/open", "sim/paper/weak",
                                                       "local/x"]
    assert expand_models(["sim/judge-constant"]) == ["sim/judge-constant/agent"]
    with pytest.raises(WorldError, match="declares no model 'nope'.*closed, open, weak"):
        split_model("sim/paper/nope")
    with pytest.raises(WorldError, match="no simulated world 'nowhere'.*paper"):
        split_model("sim/nowhere")


@pytest.mark.parametrize(("text", "message"), [
    ("[agents]\ncapability = 1.5\n", r"\[agents\] capability must be in \[0.0, 1.0\], got 1.5"),
    ("[agents]\ncapabilty = 0.5\n", r"unknown field\(s\) \['capabilty'\] in \[agents\]"),
    ("[judge]\nkind = 'psychic'\n", r"\[judge\] kind 'psychic' unknown; allowed: coverage, constant, counting"),
    ("[models.m]\nroles = ['huge']\n", r"\[models.m\] roles \['huge'\] unknown"),
    ("[agents\n", r"not valid TOML"),
])
def test_a_bad_world_file_names_the_file_and_the_field(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(WorldError, match=message) as info:
        register_world(path)
    assert str(path) in str(info.value)


def test_a_user_world_is_a_few_lines(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[agents]\ncapability = 0.7\n[protocols.my_protocol]\ncapability = 1.2\n')
    world = register_world(path)
    assert load_world("mine") == world
    assert world.capability_of("agent", "my_protocol") == pytest.approx(0.84)
    assert world.capability_of("agent", "sequential") == pytest.approx(0.7)
