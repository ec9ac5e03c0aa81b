"""`--sorg-model-config` through the plugin (the file's own checks: tests/model/test_routes.py)."""

from __future__ import annotations


def test_a_bad_file_stops_the_run_at_start_up_in_one_line(project) -> None:
    """Through the plugin: exit 4, one line naming the file and the field, no trial run."""
    (project.path / "models.yaml").write_text(
        "model_list:\n  - model_name: team\n    litellm_params: {model: openai/x, api_key: os.environ/SORG_TEST_NOPE}\n",
        encoding="utf-8")
    r = project.run("--sorg-model-config=models.yaml", "--sorg-run-id=bad")
    err = r.stderr.str()
    assert r.ret == 4 and "Traceback" not in err + r.stdout.str(), err
    assert (f"{project.path / 'models.yaml'}: model_list[0].litellm_params.api_key: environment variable "
            "SORG_TEST_NOPE is not set") in err
    assert not (project.path / "reports" / "bad").exists()
