"""Runs that survive a kill: the response store, resume, per-task results and rescoring."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import write, write_image_parquet

from lmms_eval.cli.main import main
from lmms_eval.testing.server import PALETTE

COLOURS = sorted(PALETTE)
DOCS = 40


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def big_task(tmp_path) -> Path:
    """40 docs; every seventh gold answer is wrong, so the score is not trivially 1."""
    folder = tmp_path / "tasks"
    docs = [(COLOURS[i % 8], COLOURS[(i + 1) % 8] if i % 7 == 0 else COLOURS[i % 8]) for i in range(DOCS)]
    write_image_parquet(folder / "data.parquet", docs)
    for name in ("colours_a", "colours_b"):
        write(
            folder / f"{name}.yaml",
            f"""
            task: {name}
            dataset_path: parquet
            dataset_kwargs:
              data_files:
                test: data.parquet
            test_split: test
            doc_to_visual: image
            doc_to_text: "{{{{ question }}}} Answer with one word."
            doc_to_target: answer
            metadata:
              version: 1
            """,
        )
    return folder


def cli_args(server, folder, output, store, task="colours_a", concurrency=4) -> list[str]:
    return [
        "--model", "openai", "--model_args",
        f"base_url={server.base_url},model=colour-oracle,num_concurrent={concurrency},retry_base_delay=0.01",
        "--tasks", task, "--include_path", str(folder), "--output_path", str(output), "--log_samples",
        "--use_cache", str(store),
    ]


def results_of(output: Path) -> dict:
    [path] = list(output.glob("*/*_results.json"))
    return json.loads(path.read_text())


def stable(results: dict) -> dict:
    """Results without timestamps and durations."""
    return {key: value for key, value in results.items() if key not in ("date", "total_evaluation_time_seconds", "throughput")}


def stored_answers(store: Path) -> int:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def test_kill_nine_then_resume_asks_only_what_is_missing(start_oracle, big_task, tmp_path):
    reference = start_oracle()
    assert main(cli_args(reference, big_task, tmp_path / "reference", tmp_path / "reference.db")) == 0

    server = start_oracle(latency=0.05)
    store = tmp_path / "store.db"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval", *cli_args(server, big_task, tmp_path / "killed", store, concurrency=2)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while server.answered < 12 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    kept = stored_answers(store)
    assert 0 < kept < DOCS, "the kill must land mid-run"

    asked_before = server.chat_requests
    output = tmp_path / "resumed"
    assert main(cli_args(server, big_task, output, store)) == 0
    assert server.chat_requests - asked_before == DOCS - kept  # only the missing answers were asked
    assert stored_answers(store) == DOCS
    reference_results, resumed = stable(results_of(tmp_path / "reference")), stable(results_of(output))
    reference_results["config"].pop("model_args"), resumed["config"].pop("model_args")
    assert resumed == reference_results


def test_a_cached_rerun_asks_nothing_and_scores_the_same(oracle, big_task, tmp_path, capsys):
    store = tmp_path / "store.db"
    assert main(cli_args(oracle, big_task, tmp_path / "first", store)) == 0
    asked = oracle.chat_requests
    capsys.readouterr()
    assert main(cli_args(oracle, big_task, tmp_path / "second", store, concurrency=64)) == 0
    assert oracle.chat_requests == asked
    assert "colours_a: 40 answers from the store, 0 asked" in capsys.readouterr().err
    assert stable(results_of(tmp_path / "first"))["results"] == stable(results_of(tmp_path / "second"))["results"]


def test_failed_requests_are_not_stored(start_oracle, big_task, tmp_path):
    from lmms_eval.testing.server import FaultPlan

    flaky = start_oracle(fault=FaultPlan(status=500, every=3, failures=99))
    store = tmp_path / "store.db"
    args = cli_args(flaky, big_task, tmp_path / "out", store)
    args[args.index("--model_args") + 1] += ",max_retries=0"
    assert main(args) == 3
    failed = results_of(tmp_path / "out")["requests"]["colours_a"]["failed"]
    assert 0 < failed < DOCS
    assert stored_answers(store) == DOCS - failed


def test_two_runs_share_one_store_at_once(oracle, big_task, tmp_path):
    store = tmp_path / "store.db"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    runs = [
        subprocess.Popen([sys.executable, "-m", "lmms_eval", *cli_args(oracle, big_task, tmp_path / task, store, task=task)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for task in ("colours_a", "colours_b")
    ]
    for run in runs:
        _, error = run.communicate(timeout=120)
        assert run.returncode == 0, error
    with sqlite3.connect(store) as db:
        assert dict(db.execute("SELECT task, COUNT(*) FROM responses GROUP BY task").fetchall()) == {"colours_a": DOCS, "colours_b": DOCS}


def test_each_task_is_saved_when_scored(oracle, big_task, tmp_path):
    output = tmp_path / "out"
    args = cli_args(oracle, big_task, output, tmp_path / "store.db", task="colours_a,colours_b")
    assert main(args) == 0
    names = sorted(path.name.split("_", 1)[1] for path in output.glob("*/*.json*"))
    assert names == [
        "results.json", "results_colours_a.json", "results_colours_b.json",
        "samples_colours_a_model_outputs.jsonl", "samples_colours_b_model_outputs.jsonl",
    ]
    [single] = output.glob("*/*_results_colours_a.json")
    assert set(json.loads(single.read_text())["results"]) == {"colours_a"}


def test_not_a_store_gives_one_line_and_stays_untouched(oracle, big_task, tmp_path, capsys):
    notes = tmp_path / "notes.db"
    notes.write_text("not a database")
    assert main(cli_args(oracle, big_task, tmp_path / "out", notes)) == 2
    assert capsys.readouterr().err.strip() == f"lmms-eval: error: --use_cache {notes} is not a response store (not an SQLite file); left untouched"
    assert notes.read_text() == "not a database"


def test_predict_only_then_rescore_equals_a_normal_run(oracle, big_task, tmp_path):
    normal, predicted = tmp_path / "normal", tmp_path / "predicted"
    base = ["--model", "openai", "--model_args", f"base_url={oracle.base_url}", "--tasks", "colours_a", "--include_path", str(big_task)]
    assert main([*base, "--output_path", str(normal)]) == 0
    assert main([*base, "--output_path", str(predicted), "--predict_only"]) == 0
    assert results_of(predicted)["results"]["colours_a"] == {"alias": "colours_a"}
    rescored = tmp_path / "rescored"
    assert main(["rescore", str(predicted), "--include_path", str(big_task), "--output_path", str(rescored)]) == 0
    result = results_of(rescored)
    assert result["source"] == "rescore" and results_of(normal)["source"] == "live"
    assert result["results"] == results_of(normal)["results"]
    assert result["model_name"] == "colour-oracle"


def test_rescore_applies_changed_scoring_but_refuses_changed_prompts(oracle, big_task, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["--model", "openai", "--model_args", f"base_url={oracle.base_url}", "--tasks", "colours_a",
                 "--include_path", str(big_task), "--output_path", str(output), "--log_samples"]) == 0
    before = results_of(output)["results"]["colours_a"]["exact_match,none"]
    yaml_file = big_task / "colours_a.yaml"
    original = yaml_file.read_text()
    # A scoring fix (a filter that maps every answer to "red") with a new version: rescoring applies it.
    yaml_file.write_text(original.replace("version: 1", "version: 2") + "filter_list:\n  - name: none\n    filter:\n      - function: map\n        default_value: red\n")
    assert main(["rescore", str(output), "--include_path", str(big_task), "--output_path", str(tmp_path / "fixed")]) == 0
    after = results_of(tmp_path / "fixed")["results"]["colours_a"]["exact_match,none"]
    assert after != before and after == pytest.approx(5 / 40)
    # A prompt change makes the logged answers answers to other questions.
    yaml_file.write_text(original.replace("Answer with one word.", "Answer briefly."))
    assert main(["rescore", str(output), "--include_path", str(big_task)]) == 2
    assert "were made with other prompts" in capsys.readouterr().err


def test_cache_info_and_clear(oracle, big_task, tmp_path, capsys):
    store = tmp_path / "store.db"
    assert main(cli_args(oracle, big_task, tmp_path / "out", store)) == 0
    capsys.readouterr()
    assert main(["cache", "info", str(store)]) == 0
    info = capsys.readouterr().out
    assert f"{store}: 40 answers" in info and "openai:colour-oracle" in info and "colours_a" in info
    assert main(["cache", "clear", str(store), "--task", "colours_b"]) == 0
    assert "deleted 0 answers" in capsys.readouterr().out
    assert main(["cache", "clear", str(store), "--model", "openai:colour-oracle"]) == 0
    assert "deleted 40 answers" in capsys.readouterr().out
    assert main(["cache", "info", str(tmp_path / "missing.db")]) == 2
    assert capsys.readouterr().err.strip() == f"lmms-eval: error: no response store at {tmp_path / 'missing.db'}"
