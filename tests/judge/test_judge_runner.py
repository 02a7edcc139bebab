"""The judge runner against the local test server as judge: concurrent asks, answers
stored under the judge's identity (a second run asks nothing), temperature escalation
re-asks stored too, failed calls counted and never stored."""

from __future__ import annotations

from pathlib import Path

from lmms_eval.judge import JudgeSpec
from lmms_eval.judge.runner import Judge, JudgeQuestion
from lmms_eval.store.sqlite import ResponseStore
from lmms_eval.testing.server import FaultPlan

TEMPLATE = "Grade the answer. {answer}"


def questions() -> list[JudgeQuestion]:
    return [JudgeQuestion(0, "Grade the answer. GOOD"), JudgeQuestion(1, "Grade the answer. ODD"), JudgeQuestion(2, "Grade the answer. GOOD", repeat=1)]


def judge_for(server, store) -> Judge:
    spec = JudgeSpec("openai_compatible", {"model": "judge-model", "base_url": server.base_url, "num_concurrent": 4, "max_retries": 0})
    return Judge(spec, "fixture", TEMPLATE, max_tokens=8, store=store)


def test_second_run_asks_the_judge_nothing(start_oracle, tmp_path: Path) -> None:
    server = start_oracle(model_name="judge-model", canned={"GOOD": "0.8", "ODD": "not a number"})
    store = ResponseStore(str(tmp_path / "judge.db"))
    try:
        first = judge_for(server, store)
        replies = first.ask_escalating(questions(), parses=lambda text: text.replace(".", "", 1).isdigit(), temperatures=(0.0, 0.5, 1.0))
        assert replies[(0, 0)].text == "0.8" and replies[(1, 0)].text == "not a number"
        assert first.stats.calls == 3 + 2 and first.stats.failures == 0  # ODD re-asked at 0.5 and 1.0
        asked = server.chat_requests
        second = judge_for(server, store)
        again = second.ask_escalating(questions(), parses=lambda text: text.replace(".", "", 1).isdigit(), temperatures=(0.0, 0.5, 1.0))
        assert server.chat_requests == asked and second.stats.calls == 0 and second.stats.from_store == 5
        assert {key: reply.text for key, reply in again.items()} == {key: reply.text for key, reply in replies.items()}
        entry = second.entry()
        assert entry["model"] == "judge-model" and entry["endpoint"] == server.base_url and entry["prompt_template_hash"]
        first.close()
        second.close()
    finally:
        store.close()


def test_failed_judge_calls_are_counted_and_never_stored(start_oracle, tmp_path: Path) -> None:
    server = start_oracle(model_name="judge-model", fault=FaultPlan(status=500, every=1, failures=100))
    store = ResponseStore(str(tmp_path / "judge.db"))
    try:
        judge = judge_for(server, store)
        replies = judge.ask(questions()[:2])
        assert all(not reply.ok for reply in replies.values())
        assert judge.stats.failures == 2 and judge.stats.calls == 2
        judge.close()
        retry = judge_for(server, store)
        retry.ask(questions()[:2])
        assert retry.stats.from_store == 0 and retry.stats.calls == 2
        retry.close()
    finally:
        store.close()
