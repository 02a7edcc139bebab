"""lmms-eval task code run end to end as lmms-eval calls it (compat.md 4.4-4.7): an
aggregation that writes a submission file from `args`, process_results with full_docs,
and prompt kwargs resolved per model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write, write_jsonl

from lmms_eval.cli.main import main

UTILS = '''
import json

from lmms_eval.tasks._task_utils.file_utils import generate_submission_file

CALLS = []


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs
    return kwargs["pre_prompt"] + doc["question"] + kwargs["post_prompt"] + "|" + ",".join(sorted(kwargs))


def process_results(doc, results, full_docs=None):
    return {"submission": {"id": doc["id"], "answer": results[0], "docs": len(full_docs)}, "match": float(results[0] == doc["answer"])}


def write_submission(results, args):
    CALLS.append(len(results))
    path = generate_submission_file("colours.json", args)
    with open(path, "w") as file:
        json.dump({"calls": len(CALLS), "rows": results, "model": args.model, "model_args": args.model_args,
                   "suffix": args.log_samples_suffix, "limit": args.limit, "tasks": args.tasks}, file)
    return sum(row["answer"] == "no image" for row in results) / len(results)
'''

YAML = """
task: colours
dataset_path: json
dataset_kwargs:
  data_files:
    test: docs.jsonl
test_split: test
full_docs: true
doc_to_text: !function utils.doc_to_text
doc_to_target: answer
process_results: !function utils.process_results
lmms_eval_specific_kwargs:
  default:
    pre_prompt: "Q: "
    post_prompt: " (one word)"
  gpt4v:
    pre_prompt: "only gpt4v"
metric_list:
  - metric: submission
    aggregation: !function utils.write_submission
    higher_is_better: true
  - metric: match
    aggregation: mean
"""


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_aggregation_writes_its_submission_once_under_the_raw_output_path(oracle, tmp_path, monkeypatch):
    folder = tmp_path / "tasks"
    write_jsonl(folder / "docs.jsonl", [{"id": i, "question": f"Q{i}?", "answer": "no image" if i % 2 else "red"} for i in range(6)])
    write(folder / "utils.py", UTILS)
    write(folder / "colours.yaml", YAML)
    monkeypatch.chdir(tmp_path)
    code = main(
        ["--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle", "--tasks", "colours",
         "--include_path", str(folder), "--output_path", "out", "--log_samples", "--limit", "5", "--log_samples_suffix", "mine"]
    )
    assert code == 0
    submission = json.loads((tmp_path / "out" / "submissions" / "colours.json").read_text())
    assert submission["calls"] == 1  # once, on the full results: no bootstrap resample rewrote it
    assert [row["id"] for row in submission["rows"]] == [0, 1, 2, 3, 4]
    assert {row["docs"] for row in submission["rows"]} == {6}  # full_docs: every evaluated doc
    assert submission["model"] == "openai" and submission["model_args"] == f"base_url={oracle.base_url},model=colour-oracle"
    assert (submission["suffix"], submission["limit"], submission["tasks"]) == ("mine", 5, "colours")

    [results_file] = (tmp_path / "out").glob("*/*_results.json")
    scores = json.loads(results_file.read_text())["results"]["colours"]
    assert scores["submission,none"] == 1.0  # the server sees no image and says so every time
    assert scores["submission_stderr,none"] == "N/A"
    assert scores["match,none"] == pytest.approx(2 / 5)  # docs 1 and 3 expect "no image"
    assert isinstance(scores["match_stderr,none"], float)

    [samples_file] = (tmp_path / "out").glob("*/*_samples_colours_*.jsonl")
    prompt = json.loads(samples_file.read_text().splitlines()[0])["prompt"]
    # default's keys over the whole mapping: the function sees default, gpt4v and the merged keys.
    assert prompt[0]["content"][-1]["text"] == "Q: Q0? (one word)|default,gpt4v,post_prompt,pre_prompt"


COUNTING_UTILS = '''
CALLS = []


def process_results(doc, results):
    return {"share": float(results[0] == doc["answer"])}


def count_calls(results):
    CALLS.append(len(results))
    with open("calls.txt", "a") as file:  # task code with a side effect on every call
        file.write(f"{len(results)}\\n")
    return sum(results) / len(results)
'''

COUNTING_YAML = """
task: counted
dataset_path: json
dataset_kwargs:
  data_files:
    test: docs.jsonl
test_split: test
doc_to_text: question
doc_to_target: answer
process_results: !function utils.process_results
metric_list:
  - metric: share
    aggregation: !function utils.count_calls
"""


def test_a_user_aggregation_without_args_is_called_once_with_no_stderr(oracle, tmp_path, monkeypatch):
    """lmms-eval never resamples task code from a user's folder: a bootstrap would call it
    a hundred more times, with every side effect it has."""
    folder = tmp_path / "tasks"
    write_jsonl(folder / "docs.jsonl", [{"question": f"Q{i}?", "answer": "no image" if i % 2 else "red"} for i in range(6)])
    write(folder / "utils.py", COUNTING_UTILS)
    write(folder / "counted.yaml", COUNTING_YAML)
    monkeypatch.chdir(tmp_path)
    code = main(["--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle", "--tasks", "counted",
                 "--include_path", str(folder), "--output_path", "out"])
    assert code == 0
    assert (tmp_path / "calls.txt").read_text().split() == ["6"]
    [results_file] = (tmp_path / "out").glob("*/*_results.json")
    scores = json.loads(results_file.read_text())["results"]["counted"]
    assert scores["share,none"] == pytest.approx(0.5)
    assert scores["share_stderr,none"] == "N/A"
