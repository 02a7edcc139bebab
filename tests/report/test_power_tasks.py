"""`lmms-eval power --tasks`: per task counts from each task's size, observed spread and correlation."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist

import pytest
from helpers import write_jsonl

from lmms_eval.cli.main import main
from lmms_eval.compare import observed_correlation, observed_sd

Z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)


def row(doc_id: int, score: float, task: str = "t") -> dict:
    return {"task": task, "task_version": 1, "doc_id": doc_id, "request_keys": [f"k{doc_id}"], "scores": {"none": {"acc": score}}, "failures": []}


def write_run(folder: Path, scores: dict[str, list[float]], original: dict[str, int]) -> Path:
    stamp = "2026-01-01T00-00-00"
    results = {"results": {task: {"alias": task} for task in scores},
               "n-samples": {task: {"original": original[task], "effective": len(values)} for task, values in scores.items()}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stamp}_results.json").write_text(json.dumps(results))
    for task, values in scores.items():
        write_jsonl(folder / f"{stamp}_samples_{task}.jsonl", [row(i, value, task) for i, value in enumerate(values)])
    return folder


def test_observed_spread_and_correlation_match_hand_values():
    a = [row(i, s) for i, s in enumerate([1, 0, 1, 1])]
    b = [row(i, s) for i, s in enumerate([1, 0, 0, 1])]
    assert observed_sd(a) == pytest.approx(math.sqrt(0.25))  # mean .75, squares .0625*3 + .5625 = .75, / 3
    # covariance sum (.25*.5)*2 + (-.75*-.5) + (.25*-.5) = .5; var sums .75 and 1: r = .5 / sqrt(.75)
    assert observed_correlation(a, b) == pytest.approx(0.5 / math.sqrt(0.75))
    assert observed_sd([row(0, 1), row(1, 1)]) is None and observed_correlation(a, [row(i, 1) for i in range(4)]) is None


def test_without_runs_each_task_gets_the_default_count(capsys):
    assert main(["power", "--effect", "0.03", "--tasks", "mme,pope"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["mme", "pope"]
    assert all("2181 pairs needed" in line and "size unknown" in line for line in lines)


def test_one_run_gives_sizes_and_spread(tmp_path, capsys):
    run = write_run(tmp_path / "a", {"big": [1, 0] * 50, "small": [1, 1, 1, 0]}, {"big": 5000, "small": 300})
    assert main(["power", "--effect", "0.03", "--tasks", "big,small", "--results", str(run), "--json"]) == 0
    big, small = json.loads(capsys.readouterr().out)
    sd_big = math.sqrt(25 / 99)  # 100 scores, half 1: sum of squares 25, n - 1 = 99
    assert big["sd_a"] == pytest.approx(sd_big) and big["sources"] == {"sd_a": "observed", "sd_b": "observed", "correlation": "default"}
    assert big["needed"] == math.ceil((Z * sd_big / 0.03) ** 2) and big["size"] == 5000
    assert small["size"] == 300 and small["detectable"] == pytest.approx(Z * small["sd_a"] / math.sqrt(300))
    assert main(["power", "--effect", "0.03", "--tasks", "big", "--results", str(run)]) == 0
    assert "the task has 5000: enough" in capsys.readouterr().out


def test_two_runs_give_the_pair_correlation_and_flags_win(tmp_path, capsys):
    a = write_run(tmp_path / "a", {"t": [1, 0, 1, 1]}, {"t": 4})
    b = write_run(tmp_path / "b", {"t": [1, 0, 0, 1]}, {"t": 4})
    assert main(["power", "--effect", "0.1", "--tasks", "t", "--results", str(a), str(b), "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    assert plan["correlation"] == pytest.approx(0.5 / math.sqrt(0.75)) and plan["sources"]["correlation"] == "observed"
    assert main(["power", "--effect", "0.1", "--tasks", "t", "--results", str(a), str(b), "--sd", "0.5", "--correlation", "0.5", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    assert plan["needed"] == math.ceil((Z * 0.5 / 0.1) ** 2) and set(plan["sources"].values()) == {"given"}


def test_a_task_missing_from_the_run_is_one_error_line(tmp_path, capsys):
    run = write_run(tmp_path / "a", {"t": [1, 0]}, {"t": 2})
    assert main(["power", "--effect", "0.03", "--tasks", "t,nope", "--results", str(run)]) == 2
    assert "no task nope in it" in capsys.readouterr().err
    assert main(["power", "--effect", "0.03", "--results", str(run)]) == 2
