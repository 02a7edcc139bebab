"""The whole pipeline through the CLI, against a real OpenAI-protocol server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    COLOUR_ACCURACY,
    COLOUR_STDERR,
    write,
    write_image_parquet,
    write_jsonl,
)

from lmms_eval.cli.main import EXIT_REQUESTS_FAILED, main
from lmms_eval.testing.server import FaultPlan


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def model_args(server, **extra) -> str:
    values = {"base_url": server.base_url, "model": "colour-oracle", "retry_base_delay": 0.01, **extra}
    return ",".join(f"{key}={value}" for key, value in values.items())


def run_cli(*args: str) -> int:
    return main([str(arg) for arg in args])


def read_results(output: Path) -> dict:
    [path] = list(output.glob("*/*_results.json"))
    return json.loads(path.read_text())


def read_samples(output: Path, task: str) -> list[dict]:
    [path] = list(output.glob(f"*/*_samples_{task}_*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def evaluate_colours(server, colour_task, output, *extra) -> int:
    return run_cli(
        "--model", "openai", "--model_args", model_args(server), "--tasks", "colours",
        "--include_path", colour_task, "--output_path", output, "--log_samples", *extra,
    )


def test_image_task_scores_exactly(oracle, colour_task, tmp_path, capsys):
    output = tmp_path / "out"
    assert evaluate_colours(oracle, colour_task, output) == 0

    results = read_results(output)
    scores = results["results"]["colours"]
    assert scores["exact_match,none"] == pytest.approx(COLOUR_ACCURACY, abs=1e-12)
    assert scores["exact_match_stderr,none"] == pytest.approx(COLOUR_STDERR, abs=1e-12)
    assert results["n-samples"]["colours"] == {"original": 10, "effective": 10}
    assert results["versions"]["colours"] == 2
    assert results["requests"]["colours"]["failed"] == 0
    assert results["requests"]["colours"]["usage"]["completion_tokens"] == 10
    assert results["higher_is_better"]["colours"] == {"exact_match": True}
    assert results["configs"]["colours"]["doc_to_visual"] == "!function utils.doc_to_visual"
    assert results["model_name_sanitized"] == "colour-oracle"
    assert oracle.answered == 10

    samples = read_samples(output, "colours")
    assert [row["doc_id"] for row in samples] == list(range(10))
    wrong = [row["doc_id"] for row in samples if row["scores"]["none"]["exact_match"] == 0.0]
    assert wrong == [2, 5, 8]
    assert samples[0]["resps"] == ["red"]
    assert samples[0]["target"] == "red"
    prompt_text = samples[0]["prompt"][0]["content"][-1]["text"]
    assert prompt_text == "What colour is this image? Answer with one word."
    assert samples[0]["prompt"][0]["content"][0]["type"] == "image"
    assert len({row["request_keys"][0] for row in samples}) == 10

    table = capsys.readouterr().out
    assert "colours" in table and "0.7000" in table and f"±{COLOUR_STDERR:.4f}" in table


def test_request_keys_do_not_depend_on_concurrency(oracle, colour_task, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert evaluate_colours(oracle, colour_task, first) == 0
    assert run_cli(
        "--model", "openai_compatible", "--model_args", model_args(oracle, num_concurrent=1), "--tasks", "colours",
        "--include_path", colour_task, "--output_path", second, "--log_samples",
    ) == 0
    keys = lambda folder: [row["request_keys"] for row in read_samples(folder, "colours")]  # noqa: E731
    assert keys(first) == keys(second)


JINJA_TASK = """
task: colour_sentences
dataset_path: json
dataset_kwargs:
  data_files:
    validation: docs.jsonl
validation_split: validation
doc_to_visual: !function utils.doc_to_visual
doc_to_text: "Which colour is shown{% if hint %} ({{ hint }}){% endif %}? Answer in a sentence."
doc_to_target: "{{ answer }}"
generation_kwargs:
  until: ["\\n\\n"]
  max_new_tokens: 16
filter_list:
  - name: extract
    filter:
      - function: regex
        regex_pattern: "The answer is (\\\\w+)"
      - function: lowercase
      - function: take_first
  - name: raw
    filter:
      - function: take_first
metric_list:
  - metric: exact_match
"""

JINJA_UTILS = """
from pathlib import Path

from PIL import Image


def doc_to_visual(doc):
    return [Image.open(Path(__file__).parent / doc["image_file"]).convert("RGB")]
"""


@pytest.fixture
def sentence_task(tmp_path) -> Path:
    from helpers import png_bytes

    folder = tmp_path / "sentences"
    folder.mkdir()
    rows = []
    for number, (shown, answer) in enumerate([("red", "red"), ("blue", "green"), ("yellow", "yellow"), ("white", "white")]):
        (folder / f"{number}.png").write_bytes(png_bytes(shown))
        rows.append({"image_file": f"{number}.png", "answer": answer, "hint": "one word" if number % 2 else ""})
    write_jsonl(folder / "docs.jsonl", rows)
    write(folder / "colour_sentences.yaml", JINJA_TASK)
    write(folder / "utils.py", JINJA_UTILS)
    return folder


def test_jsonl_task_with_jinja_prompt_and_filters(oracle, sentence_task, tmp_path):
    output = tmp_path / "out"
    assert run_cli(
        "--model", "openai", "--model_args", model_args(oracle), "--tasks", "colour_sentences",
        "--include_path", sentence_task, "--output_path", output, "--log_samples",
    ) == 0
    scores = read_results(output)["results"]["colour_sentences"]
    assert scores["exact_match,extract"] == 0.75
    assert scores["exact_match_stderr,extract"] == pytest.approx(0.25)  # std([1,0,1,1], ddof=1)=0.5, /sqrt(4)
    assert scores["exact_match,raw"] == 0.0
    samples = read_samples(output, "colour_sentences")
    assert samples[1]["resps"] == ["The answer is Blue."]
    assert samples[1]["filtered_resps"] == {"extract": "blue", "raw": "The answer is Blue."}
    assert samples[1]["prompt"][0]["content"][-1]["text"] == "Which colour is shown (one word)? Answer in a sentence."
    assert samples[0]["prompt"][0]["content"][-1]["text"] == "Which colour is shown? Answer in a sentence."


def small_colour_task(folder: Path) -> None:
    """A second task in the same folder: 4 docs, 2 right."""
    write_image_parquet(folder / "data" / "small.parquet", [("red", "red"), ("blue", "red"), ("green", "green"), ("black", "red")])
    text = (folder / "colours.yaml").read_text().replace("task: colours", "task: colours_small").replace("test.parquet", "small.parquet")
    write(folder / "colours_small.yaml", text)


@pytest.mark.parametrize(
    ("weight_by_size", "expected"),
    [(True, (7 + 2) / 14), (False, (0.7 + 0.5) / 2)],
)
def test_group_scores(oracle, colour_task, tmp_path, weight_by_size, expected):
    small_colour_task(colour_task)
    write(
        colour_task / "colour_group.yaml",
        f"""
        group: colour_group
        task:
          - colours
          - colours_small
        aggregate_metric_list:
          - metric: exact_match
            aggregation: mean
            weight_by_size: {str(weight_by_size).lower()}
        metadata:
          version: 1
        """,
    )
    output = tmp_path / "out"
    assert run_cli(
        "--model", "openai", "--model_args", model_args(oracle), "--tasks", "colour_group",
        "--include_path", colour_task, "--output_path", output,
    ) == 0
    results = read_results(output)
    assert results["groups"]["colour_group"]["exact_match,none"] == pytest.approx(expected)
    assert results["group_subtasks"] == {"colour_group": ["colours", "colours_small"]}
    assert set(results["results"]) == {"colours", "colours_small"}
    if weight_by_size:  # pooled over all 14 samples: 9 right
        pooled = [1.0] * 9 + [0.0] * 5
        mean = sum(pooled) / 14
        std = (sum((value - mean) ** 2 for value in pooled) / 13) ** 0.5
        assert results["groups"]["colour_group"]["exact_match_stderr,none"] == pytest.approx(std / 14**0.5)


def comparable(results: dict) -> dict:
    """Results without the fields that differ between any two runs."""
    return {key: value for key, value in results.items() if key not in ("date", "total_evaluation_time_seconds", "throughput", "config")}


@pytest.mark.parametrize("status", [429, 500])
def test_injected_faults_recover_to_the_same_results(start_oracle, colour_task, tmp_path, status):
    clean = start_oracle()
    faulty = start_oracle(fault=FaultPlan(status=status, every=2, failures=2, retry_after="0" if status == 429 else None))
    assert evaluate_colours(clean, colour_task, tmp_path / "clean") == 0
    assert evaluate_colours(faulty, colour_task, tmp_path / "faulty") == 0
    assert faulty.chat_requests > faulty.answered == 10
    assert comparable(read_results(tmp_path / "clean")) == comparable(read_results(tmp_path / "faulty"))
    assert read_samples(tmp_path / "clean", "colours") == read_samples(tmp_path / "faulty", "colours")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("named_model", ["", ",model=colour-oracle"])
def test_dead_server_fails_fast_with_one_line(colour_task, tmp_path, capsys, named_model):
    output = tmp_path / "out"
    code = run_cli(
        "--model", "openai", "--model_args", f"base_url=http://127.0.0.1:{closed_port()}/v1{named_model}",
        "--tasks", "colours", "--include_path", colour_task, "--output_path", output,
    )
    error = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert error[-1].startswith("lmms-eval: error: cannot reach http://127.0.0.1:")
    assert not output.exists()


def test_requests_that_keep_failing_are_counted_not_scored(start_oracle, colour_task, tmp_path, capsys):
    broken = start_oracle(fault=FaultPlan(status=503, every=1, failures=99))
    output = tmp_path / "out"
    code = run_cli(
        "--model", "openai", "--model_args", model_args(broken, max_retries=1), "--tasks", "colours",
        "--include_path", colour_task, "--output_path", output, "--log_samples",
    )
    assert code == EXIT_REQUESTS_FAILED
    results = read_results(output)
    assert results["results"]["colours"] == {"alias": "colours"}  # no number that looks like a score
    assert results["requests"]["colours"]["failed"] == 10
    assert results["requests"]["colours"]["failure_kinds"] == {"server_error": 10}
    samples = read_samples(output, "colours")
    assert all(row["scores"] == {} and row["resps"] == [None] for row in samples)
    assert samples[0]["failures"][0]["attempts"] == 2
    captured = capsys.readouterr()
    assert "10 of 10 requests failed" in captured.out
    assert "10 requests failed" in captured.err


def test_unknown_task_and_model_give_one_clear_line(oracle, colour_task, capsys):
    assert run_cli("--model", "openai", "--model_args", model_args(oracle), "--tasks", "colurs", "--include_path", colour_task) == 2
    assert capsys.readouterr().err.strip() == (
        "lmms-eval: error: unknown task, group or tag 'colurs'; did you mean 'colours', 'demo_colours'? (see `lmms-eval --tasks list`)"
    )
    assert run_cli("--model", "opneai", "--tasks", "colours", "--include_path", colour_task) == 2
    assert capsys.readouterr().err.strip() == "lmms-eval: error: unknown model 'opneai'; did you mean 'openai'?"


def test_bad_task_yaml_names_file_and_key(oracle, colour_task, capsys):
    write(colour_task / "broken.yaml", "task: broken\ndataset_path: json\ntest_split: test\ndoc_to_txt: question\n")
    # The broken file beside it stops only a run that asks for it (tests/cli/test_tasks_check.py has more).
    assert run_cli("--model", "openai", "--model_args", model_args(oracle), "--tasks", "colours", "--include_path", colour_task) == 0
    capsys.readouterr()
    assert run_cli("--model", "openai", "--model_args", model_args(oracle), "--tasks", "broken", "--include_path", colour_task) == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]  # after the index's warning about the file
    assert message.startswith("lmms-eval: error: ") and str(colour_task / "broken.yaml") in message
    assert "key 'doc_to_txt'" in message and "did you mean 'doc_to_text'" in message


def test_predict_only_logs_answers_without_scores(oracle, colour_task, tmp_path):
    output = tmp_path / "out"
    assert run_cli(
        "--model", "openai", "--model_args", model_args(oracle), "--tasks", "colours",
        "--include_path", colour_task, "--output_path", output, "--predict_only", "--limit", "3",
    ) == 0
    assert read_results(output)["results"]["colours"] == {"alias": "colours"}
    samples = read_samples(output, "colours")
    assert [row["resps"] for row in samples] == [["red"], ["blue"], ["green"]]
    assert all(row["scores"] == {} for row in samples)


def test_limit_offset_and_fraction(oracle, colour_task, tmp_path):
    output = tmp_path / "out"
    assert evaluate_colours(oracle, colour_task, output, "--offset", "2", "--limit", "0.25") == 0
    assert [row["doc_id"] for row in read_samples(output, "colours")] == [2, 3]
    assert read_results(output)["n-samples"]["colours"] == {"original": 10, "effective": 2}


def test_api_key_never_reaches_output(oracle, colour_task, tmp_path, capsys):
    output = tmp_path / "out"
    secret = "sk-test-very-secret-value"
    assert run_cli(
        "--model", "openai", "--model_args", model_args(oracle, api_key=secret), "--tasks", "colours",
        "--include_path", colour_task, "--output_path", output, "--log_samples", "--limit", "2",
    ) == 0
    written = "".join(path.read_text() for path in output.rglob("*") if path.is_file())
    assert secret not in written and "<redacted>" in written
    assert secret not in capsys.readouterr().out


def test_config_file_runs_each_entry_and_flags_override(oracle, colour_task, tmp_path):
    config = write(
        tmp_path / "runs.yaml",
        f"""
        - model: openai
          model_args: {model_args(oracle)}
          tasks: colours
          include_path: {colour_task}
          limit: 2
          output_path: {tmp_path / "first"}
        - model: openai
          model_args: {model_args(oracle)}
          tasks: [colours]
          include_path: [{colour_task}]
          limit: 2
          output_path: {tmp_path / "second"}
        """,
    )
    assert run_cli("--config", config, "--limit", "3") == 0
    for folder in ("first", "second"):
        assert read_results(tmp_path / folder)["n-samples"]["colours"]["effective"] == 3


def test_task_listings(colour_task, capsys):
    assert run_cli("--tasks", "list", "--include_path", colour_task) == 0
    listing = capsys.readouterr().out
    assert "colours" in listing and "demo_colours" in listing
    assert run_cli("tasks", "list_subtasks", "--include_path", colour_task) == 0
    assert "colours" in capsys.readouterr().out
    assert run_cli("models") == 0
    assert "openai_compatible" in capsys.readouterr().out


def test_show_config_prints_resolved_task(oracle, colour_task, capsys):
    assert run_cli(
        "--model", "openai", "--model_args", model_args(oracle), "--tasks", "colours",
        "--include_path", colour_task, "--limit", "1", "--show_config",
    ) == 0
    out = capsys.readouterr().out
    assert "# colours" in out and "doc_to_target: answer" in out


def test_cli_subprocess_runs_offline_and_stays_light(oracle, colour_task, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    output = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "lmms_eval", "--model", "openai", "--model_args", model_args(oracle),
         "--tasks", "colours", "--include_path", str(colour_task), "--output_path", str(output)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert read_results(output)["results"]["colours"]["exact_match,none"] == pytest.approx(COLOUR_ACCURACY)
    probe = (
        "import sys; from lmms_eval.cli.main import main; main(['--tasks', 'list']); "
        "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'aiohttp') if m in sys.modules))"
    )
    listed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert listed.stdout.strip().splitlines()[-1] == "[]"


def test_demo_command_runs_the_bundled_model_on_the_demo_suite(tmp_path, capsys):
    assert run_cli("demo", "--limit", "5", "--blank", "--output_path", tmp_path) == 0
    out = capsys.readouterr().out
    assert "huggingface" in out and "demo_yesno_blank" in out
    samples = read_results(tmp_path)["n-samples"]
    assert set(samples) == {f"demo_{task}{variant}" for task in ("yesno", "mc", "mc_ll", "short", "count") for variant in ("", "_blank")}
    assert all(counts["effective"] == 5 for counts in samples.values())


MC_TASK = """
task: pick_animal
dataset_path: json
dataset_kwargs:
  data_files:
    test: animals.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{ question }}\\nAnswer:"
doc_to_choice: "{{ options }}"
doc_to_target: answer
metric_list:
  - metric: acc
  - metric: acc_norm
"""
ANIMALS = [
    {"question": "Largest?", "options": ["cat", "elephant", "dog"], "answer": 1},
    {"question": "Barks?", "options": ["dog", "cat"], "answer": 0},
    {"question": "Meows?", "options": ["horse", "cat", "cow"], "answer": 1},
    {"question": "Stripes?", "options": ["zebra", "mouse"], "answer": 0},
]


def text_logprob(continuation: str) -> float:
    """The double's log-likelihood: a fixed function of the text alone."""
    return -float(sum(ord(char) % 7 for char in continuation))


class TextScorer:
    """A loglikelihood backend test double that scores continuations by their characters."""

    is_chat = False
    secret_args = ()
    identity = "text-scorer"

    @classmethod
    def create(cls, model_args, batch_size=1, device=None):
        return cls()

    def supports(self, request_type):
        return request_type.value == "loglikelihood"

    def loglikelihood(self, requests):
        from lmms_eval.api.response import Response

        for request in requests:
            assert request.context.startswith("Question: ") and request.continuation.startswith(" ")
            yield Response.scored(request, text_logprob(request.continuation), is_greedy=False)

    def close(self):
        pass


def test_multiple_choice_by_loglikelihood(tmp_path, monkeypatch):
    from lmms_eval.models import MODELS

    monkeypatch.setitem(MODELS._targets, "text_scorer", TextScorer)
    monkeypatch.setitem(MODELS._loaded, "text_scorer", TextScorer)
    folder = tmp_path / "mc"
    write_jsonl(folder / "animals.jsonl", ANIMALS)
    write(folder / "pick_animal.yaml", MC_TASK)
    output = tmp_path / "out"
    assert run_cli("--model", "text_scorer", "--tasks", "pick_animal", "--include_path", folder, "--output_path", output, "--log_samples") == 0

    expected_acc, expected_norm = [], []
    for doc in ANIMALS:
        scores = [text_logprob(" " + option) for option in doc["options"]]
        normalised = [score / len(option) for score, option in zip(scores, doc["options"])]
        expected_acc.append(float(scores.index(max(scores)) == doc["answer"]))
        expected_norm.append(float(normalised.index(max(normalised)) == doc["answer"]))
    assert expected_acc != expected_norm  # the data tells the two metrics apart
    results = read_results(output)["results"]["pick_animal"]
    assert results["acc,none"] == sum(expected_acc) / 4
    assert results["acc_norm,none"] == sum(expected_norm) / 4
    samples = read_samples(output, "pick_animal")
    assert len(samples[0]["resps"]) == 3 and samples[0]["resps"][1] == [text_logprob(" elephant"), False]


def test_bad_flag_values_are_one_line(capsys):
    assert run_cli("--limit", "abc", "--tasks", "x") == 2
    assert capsys.readouterr().err.strip() == (
        "lmms-eval: error: --limit must be a count of docs or a fraction below 1, not 'abc'"
    )
    assert run_cli("--no_such_flag") == 2
    assert capsys.readouterr().err.strip() == "lmms-eval: error: unrecognized arguments: --no_such_flag (see `lmms-eval --help`)"


def test_including_a_library_task_keeps_its_bundled_data(oracle, tmp_path):
    folder = write(tmp_path / "mine" / "my_demo.yaml", "include: demo/demo_colours.yaml\ntask: my_demo\n").parent
    output = tmp_path / "out"
    assert run_cli("--model", "openai", "--model_args", model_args(oracle), "--tasks", "my_demo", "--include_path", folder,
                   "--limit", "4", "--output_path", output) == 0
    assert read_results(output)["n-samples"]["my_demo"] == {"original": 40, "effective": 4}


def test_the_model_is_released_before_scoring(tmp_path, monkeypatch):
    from lmms_eval.engine.scoring import Scorer
    from lmms_eval.models import MODELS

    events = []

    class Releasing(TextScorer):
        def close(self):
            events.append("close")

    original_score = Scorer.score

    def spy(self, *args, **kwargs):
        events.append("score")
        return original_score(self, *args, **kwargs)

    monkeypatch.setattr(Scorer, "score", spy)
    monkeypatch.setitem(MODELS._targets, "releasing", Releasing)
    monkeypatch.setitem(MODELS._loaded, "releasing", Releasing)
    folder = tmp_path / "mc"
    write_jsonl(folder / "animals.jsonl", ANIMALS)
    write(folder / "pick_animal.yaml", MC_TASK)
    assert run_cli("--model", "releasing", "--tasks", "pick_animal", "--include_path", folder) == 0
    assert events[:2] == ["close", "score"]
