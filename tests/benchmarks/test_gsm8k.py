"""gsm8k: 5-shot from train, the strict-match ("#### N") and flexible-extract (last number) filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import mean_stderr, prompt_text, run_benchmark, write_parquet

TRAIN = [(f"Train question {n}?", f"Step {n}.\n#### {n}") for n in range(1, 6)]

# (gold number, reply, strict-match value, strict right?, flexible-extract value, flexible right?)
DOCS = [
    ("18", "16-3-4=9 eggs, 9*2=18.\n#### 18", "18", True, "18", True),
    ("1000", "The answer is $1,000.", "[invalid]", False, "$1,000.", True),  # "$", "," and the final "." are ignored
    ("5", "#### 5.\nSo 3 apples.", "5.", True, "3", False),  # flexible takes the last number
    ("-2", "It drops by 2 degrees, so -2", "[invalid]", False, "-2", True),
    ("7", "I don't know", "[invalid]", False, "[invalid]", False),
    ("12", "#### 12 dollars, that's 1.5 per item", "12", True, "1.5", False),
    ("3", "Total 3", "[invalid]", False, "3", True),  # a lone digit: the second alternative
]


def write_splits(folder: Path) -> None:
    import datasets

    features = datasets.Features({"question": datasets.Value("string"), "answer": datasets.Value("string")})
    write_parquet(folder / "train.parquet", [{"question": q, "answer": a} for q, a in TRAIN], features)
    rows = [{"question": f"[g{n:02d}] How many?", "answer": f"Some work.\n#### {gold}"} for n, (gold, *_rest) in enumerate(DOCS, 1)]
    write_parquet(folder / "test.parquet", rows, features)
    yaml = (
        "include: gsm8k/gsm8k.yaml\ntask: gsm8k\ndataset_path: parquet\ndataset_name: null\n"
        "dataset_kwargs:\n  data_files:\n    train: train.parquet\n    test: test.parquet\n"
    )
    (folder / "gsm8k.yaml").write_text(yaml, encoding="utf-8")


def test_gsm8k_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    folder.mkdir()
    write_splits(folder)
    canned = {f"[g{n:02d}]": reply for n, (_gold, reply, *_rest) in enumerate(DOCS, 1)}
    run = run_benchmark(tmp_path, "gsm8k", folder, canned, capsys)

    scores = run.scores("gsm8k")
    strict = [float(doc[3]) for doc in DOCS]
    flexible = [float(doc[5]) for doc in DOCS]
    assert scores["exact_match,strict-match"] == pytest.approx(3 / 7, abs=1e-12)
    assert scores["exact_match,flexible-extract"] == pytest.approx(4 / 7, abs=1e-12)
    assert scores["exact_match_stderr,strict-match"] == pytest.approx(mean_stderr(strict), abs=1e-12)
    assert [s["filtered_resps"]["strict-match"] for s in run.samples] == [doc[2] for doc in DOCS]
    assert [s["filtered_resps"]["flexible-extract"] for s in run.samples] == [doc[4] for doc in DOCS]
    assert [s["scores"]["flexible-extract"]["exact_match"] for s in run.samples] == flexible

    # Five examples from train, each "Question: ...\nAnswer: <solution>", then the question.
    text = prompt_text(run.samples[0])
    blocks = text.split("\n\n")
    assert len(blocks) == 6
    assert sorted(blocks[:5]) == sorted(f"Question: {q}\nAnswer: {a}" for q, a in TRAIN)
    assert blocks[5] == "Question: [g01] How many?\nAnswer:"
    assert {tuple(body["stop"]) for body in run.bodies} == {("Question:", "</s>", "<|im_end|>")}
    assert {body["max_tokens"] for body in run.bodies} == {256}
