"""reasoning_utils' LLM judge (compat.md §3.3): used only when USE_LLM_JUDGE is "True", its
client built on the first judge call, asked over real HTTP (a test server on 127.0.0.1)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from lmms_eval.errors import ModelError
from lmms_eval.tasks._task_utils import reasoning_utils
from lmms_eval.testing.server import OracleServer

CANNED = {
    "Model Prediction:\n```\nParis, France\n```": "1",
    "Model Prediction:\n```\nI think it is Lyon\n```": "1",
}


@pytest.fixture
def judge(monkeypatch: pytest.MonkeyPatch) -> Iterator[OracleServer]:
    pytest.importorskip("openai")
    with OracleServer(canned=CANNED) as server:
        monkeypatch.setattr(reasoning_utils, "USE_LLM_JUDGE", "True")
        monkeypatch.setattr(reasoning_utils, "BASE_URL", server.base_url)
        monkeypatch.setattr(reasoning_utils, "API_KEY", "test-key")
        monkeypatch.setattr(reasoning_utils, "MODEL_NAME", "judge-model")
        reasoning_utils._judge_client.cache_clear()
        yield server
    reasoning_utils._judge_client.cache_clear()


def test_judge_decides_when_the_rules_do_not_match(judge: OracleServer) -> None:
    result = reasoning_utils.compute_score("src", "<answer>Paris, France</answer>", "Paris", {"question": "Capital?"})
    assert result["acc_score"] == 1 and isinstance(result["acc_score"], int)
    assert result["score"] == pytest.approx(0.9)
    [body] = judge.bodies
    assert body["model"] == "judge-model" and body["max_tokens"] == 5
    [message] = body["messages"]
    expected = reasoning_utils.JUDGE_PROMPT_WITH_QUESTION.format(question="Capital?", answer="Paris", prediction="Paris, France")
    assert message == {"role": "user", "content": [{"type": "text", "text": expected}]}


def test_judge_is_asked_again_with_a_short_unformatted_solution(judge: OracleServer) -> None:
    # The extracted answer is "" (no tag, no number): the judge's reply to it is not an
    # integer and counts 0; the raw solution is short and unformatted, so it is asked again.
    result = reasoning_utils.compute_score("src", "I think it is Lyon", "Lyon")
    assert result["acc_score"] == 1
    first, second = (body["messages"][0]["content"][0]["text"] for body in judge.bodies)
    assert first == reasoning_utils.JUDGE_PROMPT.format(answer="Lyon", prediction="")
    assert second == reasoning_utils.JUDGE_PROMPT.format(answer="Lyon", prediction="I think it is Lyon")


def test_no_judge_call_when_the_rules_match_or_the_judge_is_off(judge: OracleServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert reasoning_utils.compute_score("src", "<answer>B</answer>", "B")["acc_score"] == 1.0
    monkeypatch.setattr(reasoning_utils, "USE_LLM_JUDGE", "true")  # only exactly "True" turns it on
    assert reasoning_utils.compute_score("src", "<answer>Paris, France</answer>", "Paris")["acc_score"] == 0.0
    assert judge.bodies == []


def test_judge_without_openai_installed_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # makes `import openai` fail
    monkeypatch.setattr(reasoning_utils, "USE_LLM_JUDGE", "True")
    reasoning_utils._judge_client.cache_clear()
    with pytest.raises(ModelError, match="needs the openai package"):
        reasoning_utils.compute_score("src", "<answer>x</answer>", "y")
    reasoning_utils._judge_client.cache_clear()
