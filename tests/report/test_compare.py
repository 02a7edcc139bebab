"""lmms-eval compare and power: paired tests checked against hand computations."""

from __future__ import annotations

import json
import math

import pytest
from helpers import write_jsonl

from lmms_eval.cli.main import main
from lmms_eval.compare import compare_task, mcnemar_exact_p, paired_bootstrap, power_sample_size


def row(doc_id: int, score: float, keys=("k",), version=1.0, task="t") -> dict:
    return {"task": task, "task_version": version, "doc_id": doc_id, "request_keys": [f"{k}{doc_id}" for k in keys],
            "prompt": f"question {doc_id}", "filtered_resps": {"none": [str(score)]}, "scores": {"none": {"acc": score}}, "failures": []}


def test_mcnemar_exact_matches_a_hand_computation():
    # 1 better, 6 worse: 7 discordant pairs; P(X <= 1) = (C(7,0) + C(7,1)) / 2^7 = 8/128; two-sided 16/128.
    assert mcnemar_exact_p(1, 6) == pytest.approx(16 / 128)
    assert mcnemar_exact_p(6, 1) == pytest.approx(0.125)
    assert mcnemar_exact_p(3, 3) == 1.0 and mcnemar_exact_p(0, 0) == 1.0
    assert mcnemar_exact_p(0, 10) == pytest.approx(2 / 1024)


def test_binary_task_counts_directions_and_flags_non_comparable_pairs():
    a = [row(i, 1.0) for i in range(10)] + [row(10, 1.0)]
    b = [row(i, 0.0 if i < 6 else 1.0) for i in range(10)] + [row(10, 1.0, keys=("other",))]
    b[9] = row(9, 0.0)
    a[9] = row(9, 0.0)
    a[8] = row(8, 0.0)  # 8: 0 -> 1 (better); 0..5: 1 -> 0 (worse)
    result = compare_task("t", a, b)
    assert result.test == "mcnemar_exact" and result.paired == 10
    assert (result.better, result.worse) == (1, 6)
    assert result.p_value == pytest.approx(16 / 128)
    assert result.difference == pytest.approx(-0.5)
    assert result.ci_low < -0.5 < result.ci_high
    assert [item["doc_id"] for item in result.not_comparable] == [10]
    assert sorted(sample.doc_id for sample in result.changed) == [0, 1, 2, 3, 4, 5, 8]


def test_continuous_scores_use_a_seeded_bootstrap():
    a = [0.1 * (i % 7) for i in range(40)]
    b = [x + 0.05 for x in a]
    low, high, p = paired_bootstrap(a, b, iters=2000, seed=3)
    assert low == pytest.approx(0.05) and high == pytest.approx(0.05) and p == 0.0
    assert paired_bootstrap(a, b, iters=500, seed=3) == paired_bootstrap(a, b, iters=500, seed=3)
    result = compare_task("t", [row(i, x) for i, x in enumerate(a)], [row(i, x) for i, x in enumerate(b)])
    assert result.test == "paired_bootstrap" and result.better == 40


def test_power_defaults_give_an_integer_count():
    # sd of the difference = sqrt(0.25 + 0.25 - 2*0.5*0.25) = 0.5; ((1.95996 + 0.84162) * 0.5 / 0.03)^2 = 2180.2
    assert power_sample_size(0.03) == 2181
    assert power_sample_size(0.03, correlation=0.0) == math.ceil(((1.959964 + 0.841621) * math.sqrt(0.5) / 0.03) ** 2)


def test_compare_cli_with_a_baseline_file(tmp_path, capsys):
    run = tmp_path / "run" / "m"
    stamp = "2026-01-01T00-00-00.000000"
    (run).mkdir(parents=True)
    (run / f"{stamp}_results.json").write_text(json.dumps({"results": {"t": {"alias": "t"}}, "model_name": "m"}))
    write_jsonl(run / f"{stamp}_samples_t_model_outputs.jsonl", [row(i, 1.0) for i in range(5)])
    baseline = tmp_path / "baseline.jsonl"
    write_jsonl(baseline, [row(i, 0.0 if i < 4 else 1.0) for i in range(5)])
    assert main(["compare", str(tmp_path / "run"), "--baseline", str(baseline), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert (result["better"], result["worse"], result["p_value"]) == (4, 0, 0.125)
    assert main(["compare", str(tmp_path / "run"), "--baseline", str(baseline), "--tasks", "nope"]) == 2
    assert "--tasks: nope not in both runs' samples" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "run")]) == 0
    assert "0 better in B, 0 worse" in capsys.readouterr().out


def test_power_cli(capsys):
    assert main(["power", "--effect", "0.03", "--alpha", "0.05", "--power", "0.8"]) == 0
    assert capsys.readouterr().out.strip() == "2181"
    assert main(["power", "--effect", "0.03", "--alpha", "1.5"]) == 2


def test_a_changed_samples_plain_text_chat_prompt_is_shown() -> None:
    from lmms_eval.compare import _prompt_text

    prompt = [{"role": "user", "content": "What colour?"}, {"role": "user", "content": [{"type": "image", "digest": "ab"}, {"type": "text", "text": "Say it."}]}]
    assert _prompt_text(prompt) == "What colour? Say it."
