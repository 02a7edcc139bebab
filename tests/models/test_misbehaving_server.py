"""Servers that do not keep to the protocol, end to end through the CLI and the response store.

Every misbehaviour either gives an answer that is read correctly, or fails only the
requests it hits. The invariants for a failed request: never scored (the task's score
counts only the answered docs, all right here), never stored, counted in the results
(exit 3), and a rerun against a good server asks exactly the failed requests again.
The reply parser is also fed generated bodies: it returns text or raises a
`bad_response` failure, never anything else.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from helpers import write, write_image_parquet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmms_eval.api.response import FailureKind, Usage
from lmms_eval.cli.main import main
from lmms_eval.models.api.openai_chat import _Final, parse_completion
from lmms_eval.redaction import Redactor
from lmms_eval.testing.server import PALETTE, Misbehaviour, MisbehaviourPlan

COLOURS = sorted(PALETTE)
DOCS = 16
KEY = "sk-secret1234567890abcdef"
# Short timeouts and breaker intervals keep the silent-server cases to about a second.
FAST = "retry_base_delay=0.01,max_retry_delay=0.05,timeout=0.3,probe_interval=0.05,give_up_after=0.5"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture(scope="module")
def task_folder(tmp_path_factory) -> Path:
    """DOCS docs whose gold answers are all right: any failed doc scored as wrong would show."""
    folder = tmp_path_factory.mktemp("tasks")
    write_image_parquet(folder / "data.parquet", [(COLOURS[i % 8], COLOURS[i % 8]) for i in range(DOCS)])
    write(
        folder / "colours.yaml",
        """
        task: colours
        dataset_path: parquet
        dataset_kwargs:
          data_files:
            test: data.parquet
        test_split: test
        doc_to_visual: image
        doc_to_text: "{{ question }} Answer with one word."
        doc_to_target: answer
        metadata:
          version: 1
        """,
    )
    return folder


def run(server, task_folder: Path, output: Path, store: Path, extra: str = "") -> int:
    model_args = f"base_url={server.base_url},model=colour-oracle,api_key={KEY},num_concurrent=4,max_retries=0,{FAST}{extra}"
    return main([
        "--model", "openai", "--model_args", model_args, "--tasks", "colours", "--include_path", str(task_folder),
        "--output_path", str(output), "--log_samples", "--use_cache", str(store),
    ])  # fmt: skip


def results_of(output: Path) -> dict:
    [path] = output.glob("*/*_results.json")
    return json.loads(path.read_text())


def samples_text(output: Path) -> str:
    [path] = output.glob("*/*_samples_colours_model_outputs.jsonl")
    return path.read_text()


def stored_answers(store: Path) -> int:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def assert_rerun_asks_exactly(start_oracle, task_folder: Path, tmp_path: Path, store: Path, failed: int) -> None:
    good = start_oracle()
    output = tmp_path / "rerun"
    assert run(good, task_folder, output, store) == 0
    assert good.chat_requests == failed
    assert stored_answers(store) == DOCS
    assert results_of(output)["results"]["colours"]["exact_match,none"] == 1.0


def assert_failed_not_scored_not_stored(output: Path, store: Path, kinds: set[str]) -> int:
    results = results_of(output)
    requests = results["requests"]["colours"]
    failed = requests["failed"]
    assert 0 < failed <= DOCS
    assert set(requests["failure_kinds"]) == kinds
    assert stored_answers(store) == DOCS - failed
    if failed < DOCS:  # the answered docs score 1.0: no failure was scored as a wrong answer
        assert results["results"]["colours"]["exact_match,none"] == 1.0
    rows = [json.loads(line) for line in samples_text(output).splitlines()]
    failed_rows = [row for row in rows if row["failures"]]
    assert len(failed_rows) == failed and all(row["scores"] == {} and row["resps"] == [None] for row in failed_rows)
    return failed


# --- replies that are answers ----------------------------------------------------------


@pytest.mark.parametrize("behaviour", [Misbehaviour.CONTENT_PARTS, Misbehaviour.USAGE_NOT_A_COUNT, Misbehaviour.USAGE_A_LIST])
def test_answers_in_odd_shapes_are_read_scored_and_stored(start_oracle, task_folder, tmp_path, behaviour):
    server = start_oracle(misbehaviour=MisbehaviourPlan(behaviour, every=2))
    store = tmp_path / "store.db"
    assert run(server, task_folder, tmp_path / "out", store) == 0
    assert server.misbehaved > 0
    assert results_of(tmp_path / "out")["results"]["colours"]["exact_match,none"] == 1.0
    assert stored_answers(store) == DOCS
    assert_rerun_asks_exactly(start_oracle, task_folder, tmp_path, store, failed=0)


def test_malformed_usage_is_one_warning_for_the_run(start_oracle, task_folder, tmp_path, capsys):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.USAGE_A_LIST))
    assert run(server, task_folder, tmp_path / "out", tmp_path / "store.db") == 0
    assert capsys.readouterr().err.count("malformed token usage") == 1


# --- replies that are not answers, and broken connections -------------------------------


@pytest.mark.parametrize(
    "plan, kinds",
    [
        (MisbehaviourPlan(Misbehaviour.CONTENT_NUMBER, every=3), {"bad_response"}),
        (MisbehaviourPlan(Misbehaviour.CONTENT_OBJECT, every=3), {"bad_response"}),
        (MisbehaviourPlan(Misbehaviour.CONTENT_WITHOUT_TEXT, every=3), {"bad_response"}),
        (MisbehaviourPlan(Misbehaviour.RESET, every=3), {"connection"}),
        (MisbehaviourPlan(Misbehaviour.CUT_BODY, every=3), {"connection"}),
        (MisbehaviourPlan(Misbehaviour.HANG, every=3), {"timeout"}),
        (MisbehaviourPlan(Misbehaviour.ECHO_AUTHORIZATION, every=3), {"rejected"}),
    ],
    ids=lambda value: value.behaviour.value if isinstance(value, MisbehaviourPlan) else None,
)
def test_failed_requests_are_counted_never_scored_never_stored_and_asked_again(start_oracle, task_folder, tmp_path, plan, kinds):
    server = start_oracle(misbehaviour=plan)
    store, output = tmp_path / "store.db", tmp_path / "out"
    # The breaker opens after min(down_after, num_concurrent) = 4 answerless requests in a
    # row, which the last hanging or reset requests of the task can be (resets in a row are
    # likely under load); its probes may then fail too, and the server must not be given up
    # on (0.5 s in FAST) while it still answers.
    extra = ",down_after=100,give_up_after=5"
    assert run(server, task_folder, output, store, extra=extra) == 3
    failed = assert_failed_not_scored_not_stored(output, store, kinds)
    assert failed == server.misbehaved  # max_retries=0: each misbehaviour failed one request, and only it
    assert_rerun_asks_exactly(start_oracle, task_folder, tmp_path, store, failed)


@pytest.mark.parametrize("behaviour", [Misbehaviour.RESET, Misbehaviour.CUT_BODY])
def test_one_broken_connection_fails_one_request(start_oracle, task_folder, tmp_path, behaviour):
    server = start_oracle(misbehaviour=MisbehaviourPlan(behaviour, total=1))
    store, output = tmp_path / "store.db", tmp_path / "out"
    assert run(server, task_folder, output, store) == 3
    assert assert_failed_not_scored_not_stored(output, store, {"connection"}) == 1
    assert_rerun_asks_exactly(start_oracle, task_folder, tmp_path, store, failed=1)


def test_a_server_that_falls_silent_is_given_up_on_and_its_answers_are_kept(start_oracle, task_folder, tmp_path, capsys):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.HANG, after=5))
    store, output = tmp_path / "store.db", tmp_path / "out"
    started = time.monotonic()
    assert run(server, task_folder, output, store, extra=",max_retries=3") == 3
    assert time.monotonic() - started < 10
    # what was in flight, and a probe or two: not every remaining request with all its retries
    assert server.chat_requests - server.answered <= 10
    failed = assert_failed_not_scored_not_stored(output, store, {"timeout", "connection"})
    assert stored_answers(store) == server.answered >= 5
    error = capsys.readouterr().err
    assert error.count("giving up on it; the remaining requests are recorded as failed") == 1
    assert f"lmms-eval: {failed} requests failed" in error
    assert_rerun_asks_exactly(start_oracle, task_folder, tmp_path, store, failed)


def test_no_part_of_an_echoed_key_reaches_any_file(start_oracle, task_folder, tmp_path, capsys):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.ECHO_AUTHORIZATION, every=2))
    output = tmp_path / "out"
    assert run(server, task_folder, output, tmp_path / "store.db") == 3
    written = "".join(path.read_text() for path in output.rglob("*") if path.is_file())
    captured = capsys.readouterr()
    for text in (written, captured.out, captured.err):
        assert KEY[:6] not in text and "secret" not in text
    assert "Authorization: Bearer <redacted>" in written


# --- generated reply bodies --------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
parts = st.lists(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url", "refusal"]) | json_values}, optional={"text": st.text(max_size=8) | json_values}) | json_values,
    max_size=4,
)
contents = st.text(max_size=12) | parts | json_values
messages = st.fixed_dictionaries({}, optional={"role": json_values, "content": contents, "refusal": json_values}) | json_values
choices = st.lists(st.fixed_dictionaries({}, optional={"message": messages, "index": json_values}) | json_values, max_size=2) | json_values
counts = st.integers(min_value=-3, max_value=10**6) | json_values
usages = st.fixed_dictionaries({}, optional={"prompt_tokens": counts, "completion_tokens": counts}) | json_values
completions = st.fixed_dictionaries({}, optional={"choices": choices, "usage": usages, "error": json_values}) | json_values


def parsed_or_bad_response(body: bytes) -> None:
    try:
        completion = parse_completion(body, Redactor())
    except _Final as failure:
        assert failure.kind is FailureKind.BAD_RESPONSE and str(failure)
        return
    assert isinstance(completion.text, str)
    assert completion.usage is None or isinstance(completion.usage, Usage)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(completions)
def test_any_json_reply_is_text_or_a_bad_response(reply):
    parsed_or_bad_response(json.dumps(reply).encode())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=32).map(str.encode))
def test_any_bytes_are_text_or_a_bad_response(body):
    parsed_or_bad_response(body)


def test_text_parts_are_joined_and_nothing_else_is_text():
    def text_of(content):
        return parse_completion(json.dumps({"choices": [{"message": {"content": content}}]}).encode()).text

    assert text_of([{"type": "text", "text": "re"}, {"type": "image_url"}, {"type": "text", "text": "d"}]) == "red"
    for content in (42, 4.2, True, {"text": "red"}, [], [{"type": "text", "text": 5}], ["red"]):
        with pytest.raises(_Final):
            text_of(content)
    with pytest.raises(_Final):
        parse_completion(b"[" * 100_000 + b"]" * 100_000)  # nested too deep for json to read


# --- answers already in the store --------------------------------------------------------


@pytest.mark.parametrize("bad_text", [42, {"type": "text", "text": "red"}], ids=["number", "object"])
def test_a_stored_answer_that_is_not_text_counts_as_missing_and_is_asked_again(start_oracle, task_folder, tmp_path, bad_text):
    """Issue 12 item 1: every stored answer is validated when read; an invalid one is never scored."""
    store = tmp_path / "store.db"
    assert run(start_oracle(), task_folder, tmp_path / "first", store) == 0
    spoiled = 3
    with sqlite3.connect(store) as db:
        keys = [row[0] for row in db.execute("SELECT request_key FROM responses ORDER BY request_key LIMIT ?", (spoiled,))]
        for key in keys:
            [raw] = db.execute("SELECT answer FROM responses WHERE request_key = ?", (key,)).fetchone()
            answer = json.loads(raw)
            answer["text"] = bad_text
            db.execute("UPDATE responses SET answer = ? WHERE request_key = ?", (json.dumps(answer), key))
    db.close()
    assert_rerun_asks_exactly(start_oracle, task_folder, tmp_path, store, failed=spoiled)
