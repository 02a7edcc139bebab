"""Through the CLI: a task that needs no judge never asks for a key; one that needs a
judge and has none fails before the first model request, in one line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmms_eval.cli.main import main


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for name in ("OPENAI_API_KEY", "OPENAI_API_URL", "OPENAI_BASE_URL", "MODEL_VERSION", "API_TYPE"):
        monkeypatch.delenv(name, raising=False)


def judged_task(colour_task: Path) -> Path:
    text = (colour_task / "colours.yaml").read_text()
    judged = text.replace("task: colours", "task: judged_colours").replace("version: 2", "version: 2\n  gpt_eval_model_name: gpt-4-0613")
    (colour_task / "judged_colours.yaml").write_text(judged)
    return colour_task


def run(server, folder: Path, task: str, *extra: str) -> int:
    model_args = f"base_url={server.base_url},model=colour-oracle,retry_base_delay=0.01"
    return main(["--model", "openai", "--model_args", model_args, "--tasks", task, "--include_path", str(folder), *extra])


def test_task_without_judge_needs_no_key(oracle, colour_task: Path) -> None:
    assert run(oracle, colour_task, "colours") == 0


def test_judged_task_without_key_fails_before_any_request(oracle, colour_task: Path, capsys) -> None:
    assert run(oracle, judged_task(colour_task), "judged_colours") == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert any("judged_colours" in line and "--judge_args" in line for line in error)
    assert oracle.chat_requests == 0


def test_local_judge_by_base_url_is_accepted_and_recorded(oracle, colour_task: Path, tmp_path: Path) -> None:
    judge_args = f"base_url={oracle.base_url},model=judge-b,api_key=sk-secret"
    output = tmp_path / "out"
    assert run(oracle, judged_task(colour_task), "judged_colours", "--judge_model", "openai_compatible", "--judge_args", judge_args, "--output_path", str(output)) == 0
    [path] = list(output.glob("*/*_results.json"))
    text = path.read_text()
    entry = json.loads(text)["judges"]["judged_colours"]
    assert entry == {"model": "judge-b", "backend": "openai_compatible", "endpoint": oracle.base_url}
    assert "sk-secret" not in text
