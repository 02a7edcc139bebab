"""--hf_hub_log_args against a local stand-in for the Hub API (HF_ENDPOINT on 127.0.0.1):
the repos are created, the commit holds the results, the samples and a dataset card, and
no secret is in any file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_hub import USER, FakeHub

from lmms_eval.cli.main import main
from lmms_eval.errors import ConfigError
from lmms_eval.report.hub import HubSettings

API_KEY = "sk-test-hub-never-pushed-4567"
HUB_TOKEN = "hf_test_token_never_pushed_89ab"


@pytest.fixture
def hub(monkeypatch):
    from huggingface_hub import constants

    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # the datasets are local; only the push goes out
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # read when huggingface_hub was first imported
    yield server
    server.stop()


def run_cli(oracle, colour_task: Path, output: Path, hub_args: str) -> int:
    model_args = f"base_url={oracle.base_url},model=colour-oracle,api_key={API_KEY},retry_base_delay=0.01"
    return main(["--model", "openai", "--model_args", model_args, "--tasks", "colours", "--include_path", str(colour_task),
                 "--output_path", str(output), "--log_samples", "--hf_hub_log_args", hub_args])


def test_results_and_samples_are_committed_as_a_private_dataset_repo(hub, oracle, colour_task, tmp_path):
    args = "hub_results_org=my-org,details_repo_name=evals,push_results_to_hub=True,push_samples_to_hub=True,public_repo=False"
    assert run_cli(oracle, colour_task, tmp_path / "out", args) == 0
    assert set(hub.repos) == {"my-org/evals-private"}  # results_repo_name defaults to the details repo
    repo = hub.repos["my-org/evals-private"]
    assert repo["type"] == "dataset" and repo["private"] is True
    [commit] = hub.commits
    files = repo["files"]
    [results_path] = [path for path in files if path.startswith("colour-oracle/results_")]
    [samples_path] = [path for path in files if path.startswith("colour-oracle/samples_colours_")]
    assert set(files) == {results_path, samples_path, "README.md"} == set(commit["files"])

    local_results = json.loads(next((tmp_path / "out").glob("*/*_results.json")).read_text())
    pushed_results = json.loads(files[results_path])
    assert pushed_results["results"] == local_results["results"]
    assert pushed_results["config"]["model_args"]["api_key"] == "<redacted>"
    local_samples = [json.loads(line) for line in next((tmp_path / "out").glob("*/*_samples_colours_*.jsonl")).read_text().splitlines()]
    assert [json.loads(line) for line in files[samples_path].decode().splitlines()] == local_samples

    card = files["README.md"].decode()
    assert card.startswith("---\n") and "config_name: colours" in card and samples_path in card
    assert "| colours | exact_match | none |" in card
    assert f"Bearer {HUB_TOKEN}" in hub.authorizations  # authenticated with the token, which no file holds
    for path, content in files.items():
        assert API_KEY.encode() not in content and HUB_TOKEN.encode() not in content, path


def test_results_only_to_a_public_repo_of_the_tokens_user(hub, oracle, colour_task, tmp_path):
    assert run_cli(oracle, colour_task, tmp_path / "out", "results_repo_name=scores,push_results_to_hub=True,public_repo=True") == 0
    assert set(hub.repos) == {f"{USER}/scores"}  # no org given: whoami's user
    repo = hub.repos[f"{USER}/scores"]
    assert repo["private"] is False
    assert not any("samples_" in path for path in repo["files"])
    # Pushing again adds a second results file to the existing repo.
    assert run_cli(oracle, colour_task, tmp_path / "again", "results_repo_name=scores,push_results_to_hub=True,public_repo=True") == 0
    assert len([path for path in hub.repos[f"{USER}/scores"]["files"] if "results_" in path]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        ({"hub_results_org": "o"}, "nothing to push"),
        ({"push_results_to_hub": True, "colour": "red"}, "unknown key(s) colour"),
        ({"push_results_to_hub": "yes"}, "push_results_to_hub must be True or False"),
        ({"push_results_to_hub": True, "details_repo_name": "a/b"}, "'a/b' is not a repo"),
    ],
)
def test_bad_hub_args_are_one_error(args, message, hub):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HubSettings.from_args(args).check()


def test_a_bad_hub_arg_stops_the_run_before_any_request(hub, oracle, colour_task, tmp_path, capsys):
    assert run_cli(oracle, colour_task, tmp_path / "out", "hub_results_org=o") == 2
    assert "--hf_hub_log_args: nothing to push" in capsys.readouterr().err
    assert oracle.chat_requests == 0 and hub.requests == []


def test_a_hub_that_refuses_is_one_error_after_the_files_are_written(hub, oracle, colour_task, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(hub, "_create", lambda payload: (403, {"error": "You don't have the rights to create a dataset under this namespace"}))
    assert run_cli(oracle, colour_task, tmp_path / "out", "hub_results_org=other,push_results_to_hub=True") == 2
    err = capsys.readouterr().err
    assert "lmms-eval: error: HF Hub:" in err and HUB_TOKEN not in err
    assert list((tmp_path / "out").glob("*/*_results.json"))
