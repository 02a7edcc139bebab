"""The judge stage through the CLI: a task's JudgeScoring scores its answers with the local
oracle server as the judge (another model name than the evaluated one), after inference;
judge answers are stored and never asked twice; --judge_repeats reports the spread; rescore
re-judges with another judge; a bad `judge_scoring` is one clear error."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from helpers import COLOUR_DOCS

from lmms_eval.cli.main import main

JUDGE_UTILS = '''
from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgeScoring


def score(samples, judge):
    questions = [JudgeQuestion(s.doc_id, f"Grade [{s.answer}] against [{s.target}]") for s in samples]
    replies = judge.ask(questions)
    values = {}
    for s in samples:
        reply = replies[(s.doc_id, 0)]
        # unparsable replies are answers (0); a failed call is this fixture's failure value, 0
        verdict = 1.0 if reply.ok and (reply.text or "").strip() == "1" else 0.0
        values[s.doc_id] = {"judged_score": verdict, "judge_failed": float(not reply.ok)}
    return values


judge_scoring = JudgeScoring(template="Grade [{answer}] against [{target}]", score=score, temperature=0.0, max_tokens=8)
not_a_scoring = 42
'''

#: The judge says "1" when the model's answer (the image colour) is the target; anything
#: else gets its default reply ("no image"), which the task reads as 0.
JUDGE_CANNED = {f"[{colour}] against [{colour}]": "1" for colour, answer in COLOUR_DOCS if colour == answer}
RIGHT = sum(colour == answer for colour, answer in COLOUR_DOCS) / len(COLOUR_DOCS)


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_API_URL", "OPENAI_BASE_URL", "MODEL_VERSION", "API_TYPE"):
        monkeypatch.delenv(name, raising=False)


def judged_folder(colour_task: Path, scoring: str = "judge_scoring") -> Path:
    (colour_task / "judge_utils.py").write_text(JUDGE_UTILS)
    text = (colour_task / "colours.yaml").read_text()
    text = text.replace("task: colours", "task: judged_colours").replace("version: 2", "version: 2\n  gpt_eval_model_name: judge-a")
    text = text.replace("metric_list:", textwrap.dedent(f"""\
        judge_scoring: !function judge_utils.{scoring}
        metric_list:
          - metric: judged_score
            aggregation: mean
          - metric: judge_failed
            aggregation: mean"""), 1)
    (colour_task / "judged_colours.yaml").write_text(text)
    return colour_task


def evaluate(oracle, judge, folder: Path, output: Path, *extra: str) -> int:
    return main([
        "--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle,retry_base_delay=0.01",
        "--tasks", "judged_colours", "--include_path", str(folder), "--output_path", str(output), "--log_samples",
        "--judge_model", "openai_compatible", "--judge_args", f"base_url={judge.base_url},model={judge.model_name},max_retries=0",
        *extra,
    ])  # fmt: skip


def results(output: Path) -> dict:
    [path] = sorted(output.glob("*/*_results.json"), key=lambda p: p.stat().st_mtime)[-1:]
    return json.loads(path.read_text())


def test_judged_score_stored_answers_and_rescore_with_another_judge(oracle, start_oracle, colour_task: Path, tmp_path: Path) -> None:
    folder = judged_folder(colour_task)
    store = str(tmp_path / "store.sqlite")
    judge_a = start_oracle(model_name="judge-a", canned=JUDGE_CANNED)
    assert evaluate(oracle, judge_a, folder, tmp_path / "first", "--use_cache", store) == 0
    first = results(tmp_path / "first")
    assert first["results"]["judged_colours"]["judged_score,none"] == pytest.approx(RIGHT)
    entry = first["judges"]["judged_colours"]
    assert entry["model"] == "judge-a" and entry["calls"] == len(COLOUR_DOCS) and entry["from_store"] == 0
    assert entry["repeats"] == 1 and entry["spread"]["judged_score,none"]["std"] == 0.0
    assert judge_a.chat_requests == len(COLOUR_DOCS)

    assert evaluate(oracle, judge_a, folder, tmp_path / "again", "--use_cache", store) == 0  # asks the judge nothing
    again = results(tmp_path / "again")
    assert again["judges"]["judged_colours"]["calls"] == 0 and again["judges"]["judged_colours"]["from_store"] == len(COLOUR_DOCS)
    assert judge_a.chat_requests == len(COLOUR_DOCS)
    assert again["results"]["judged_colours"]["judged_score,none"] == pytest.approx(RIGHT)

    judge_b = start_oracle(model_name="judge-b", canned={"against": "1"})  # a lenient judge: everything right
    rescore = ["rescore", str(tmp_path / "first"), "--include_path", str(folder), "--output_path", str(tmp_path / "rescored"),
               "--judge_model", "openai_compatible", "--judge_args", f"base_url={judge_b.base_url},model=judge-b,max_retries=0", "--use_cache", store]  # fmt: skip
    assert main(rescore) == 0
    rescored = results(tmp_path / "rescored")
    assert rescored["source"] == "rescore" and rescored["judges"]["judged_colours"]["model"] == "judge-b"
    assert rescored["judges"]["judged_colours"]["calls"] == len(COLOUR_DOCS) == judge_b.chat_requests
    assert rescored["results"]["judged_colours"]["judged_score,none"] == pytest.approx(1.0)
    assert main(rescore) == 0  # the same judge and store: nothing asked
    assert judge_b.chat_requests == len(COLOUR_DOCS) and results(tmp_path / "rescored")["judges"]["judged_colours"]["calls"] == 0


def test_judge_repeats_report_the_spread_and_failures_get_the_failure_value(oracle, start_oracle, colour_task: Path, tmp_path: Path, capsys) -> None:
    from lmms_eval.testing.server import FaultPlan

    folder = judged_folder(colour_task)
    judge = start_oracle(model_name="judge-a", canned=JUDGE_CANNED)
    assert evaluate(oracle, judge, folder, tmp_path / "repeats", "--judge_repeats", "3") == 0
    entry = results(tmp_path / "repeats")["judges"]["judged_colours"]
    assert entry["repeats"] == 3 and entry["calls"] == 3 * len(COLOUR_DOCS)
    assert entry["spread"]["judged_score,none"] == {"values": [RIGHT] * 3, "mean": pytest.approx(RIGHT), "std": 0.0, "min": RIGHT, "max": RIGHT}

    failing = start_oracle(model_name="judge-a", fault=FaultPlan(status=500, every=1, failures=1_000_000))
    capsys.readouterr()
    assert evaluate(oracle, failing, folder, tmp_path / "failed") == 3  # scored with failure values: not a clean run
    assert f"{len(COLOUR_DOCS)} judge calls failed" in capsys.readouterr().err
    failed = results(tmp_path / "failed")
    assert failed["judges"]["judged_colours"]["failures"] == len(COLOUR_DOCS)
    assert failed["results"]["judged_colours"]["judge_failed,none"] == 1.0
    assert failed["results"]["judged_colours"]["judged_score,none"] == 0.0


def test_predict_only_asks_no_judge(oracle, start_oracle, colour_task: Path, tmp_path: Path) -> None:
    judge = start_oracle(model_name="judge-a", canned=JUDGE_CANNED)
    assert evaluate(oracle, judge, judged_folder(colour_task), tmp_path / "p", "--predict_only") == 0
    assert judge.chat_requests == 0


def test_judge_scoring_that_is_not_a_judge_scoring_is_one_error(oracle, start_oracle, colour_task: Path, tmp_path: Path, capsys) -> None:
    judge = start_oracle(model_name="judge-a")
    assert evaluate(oracle, judge, judged_folder(colour_task, "not_a_scoring"), tmp_path / "bad") == 2
    error = capsys.readouterr().err
    assert "judge_scoring" in error and "JudgeScoring" in error and "int" in error
    assert oracle.chat_requests == 0


def test_rounds_average_and_spread() -> None:
    from lmms_eval.engine.aggregate import Score
    from lmms_eval.judge.stage import mean_scores, spread

    rounds = [
        {("score", "none"): Score(30.0, 1.0, 4), ("parts", "none"): Score({"a": 1.0, "b": 2.0}, None, 4)},
        {("score", "none"): Score(34.0, 3.0, 4), ("parts", "none"): Score({"a": 3.0, "b": 2.0}, None, 4)},
    ]
    combined = mean_scores(rounds)
    assert combined[("score", "none")] == Score(32.0, 2.0, 4)
    assert combined[("parts", "none")].value == {"a": 2.0, "b": 2.0}
    assert spread(rounds) == {"score,none": {"values": [30.0, 34.0], "mean": 32.0, "std": pytest.approx(2 ** 1.5), "min": 30.0, "max": 34.0}}


def test_judge_scoring_needs_a_default_judge_model() -> None:
    from lmms_eval.errors import TaskConfigError
    from lmms_eval.taskdefs.config import TaskConfig

    raw = {"task": "t", "dataset_path": "parquet", "test_split": "test", "doc_to_text": "q", "judge_scoring": "x"}
    with pytest.raises(TaskConfigError, match="gpt_eval_model_name"):
        TaskConfig.from_dict(raw, "t.yaml")
