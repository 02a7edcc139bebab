"""MMLU and GSM8K through `hf` on the real SmolLM2-135M-Instruct GGUF, 20 questions each.

The run goes through benchmarks/bench_smollm2_text.py (the library tasks, their prompts,
filters and metrics, the real model). Zero-shot, one batch and a 32-token budget keep it to about a
minute on two cores; the 5-shot figures come from running the script itself. The scores
of a 135M model are figures, not test thresholds.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_smollm2_text.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_smollm2_text", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mmlu_and_gsm8k_run_on_the_real_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bench = load_bench()
    results = bench.run(20, tmp_path, batch_size=20, extra_flags=("--num_fewshot", "0", "--gen_kwargs", "max_new_tokens=32"))

    for key in ("acc,none", "acc_stderr,none"):
        assert 0.0 <= results["mmlu_miscellaneous"][key] <= 1.0
    for key in ("exact_match,strict-match", "exact_match,flexible-extract"):
        assert 0.0 <= results["gsm8k"][key] <= 1.0
    printed = capsys.readouterr().out
    assert "mmlu_miscellaneous: acc" in printed and "gsm8k: strict-match" in printed

    [samples] = (tmp_path / "results").glob("*/*_samples_gsm8k_*.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(rows) == 20 and not any(row.get("failures") for row in rows)
    answers = [row["resps"][0] for row in rows]
    assert all(isinstance(answer, str) for answer in answers) and len(set(answers)) > 1  # the model really answered
    [mmlu] = (tmp_path / "results").glob("*/*_samples_mmlu_miscellaneous_*.jsonl")
    first = json.loads(mmlu.read_text().splitlines()[0])
    assert len(first["resps"]) == 4  # one log-likelihood per letter
