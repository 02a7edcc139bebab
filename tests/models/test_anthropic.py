"""The `anthropic` (`claude`) backend against the local server's Messages API."""

from __future__ import annotations

import pytest
from protocol_helpers import FAST, ask, ask_with_system, colour_scores

from lmms_eval.api.response import FailureKind, Usage
from lmms_eval.models import MODELS
from lmms_eval.models.api.anthropic_messages import AnthropicMessages
from lmms_eval.testing.server import FaultPlan, Misbehaviour, MisbehaviourPlan


def claude(server, **args) -> AnthropicMessages:
    return AnthropicMessages(**{"base_url": server.base_url, "model": "colour-oracle", **FAST, **args})


def test_claude_scores_the_image_task_as_openai_does(oracle, colour_task, tmp_path):
    openai = colour_scores("openai", oracle.base_url, colour_task, tmp_path / "openai")
    anthropic = colour_scores("claude", oracle.base_url, colour_task, tmp_path / "claude")
    assert anthropic["scores"] == openai["scores"]
    assert anthropic["requests"]["failed"] == 0
    assert anthropic["requests"]["usage"] == openai["requests"]["usage"]


def test_the_request_carries_image_block_system_and_limits(oracle):
    model = claude(oracle)
    [answer] = model.generate_until([ask(0, "blue", max_new_tokens=7, until=["\n"])])
    assert answer.text == "blue" and answer.usage == Usage(12, 1)
    body = oracle.bodies[0]  # as the server read it into the OpenAI shape
    assert body["max_tokens"] == 7 and body["stop"] == ["\n"]
    assert model._payload(ask(0, "blue"))["messages"][0]["content"][0]["source"]["media_type"] == "image/png"
    system = model._payload(ask_with_system(1, "Be brief.", "Hi"))
    assert system["system"] == "Be brief." and [turn["role"] for turn in system["messages"]] == ["user"]


@pytest.mark.parametrize("status", [429, 529, 503])
def test_overload_rate_limits_and_server_errors_are_retried(start_oracle, status):
    server = start_oracle(fault=FaultPlan(status=status, every=1, failures=2, retry_after="0"))
    answers = list(claude(server).generate_until([ask(i, colour) for i, colour in enumerate(["red", "green"])]))
    assert [answer.text for answer in answers] == ["red", "green"]
    assert server.chat_requests == 6


def test_a_refused_request_is_a_failure_not_an_answer(start_oracle):
    server = start_oracle(fault=FaultPlan(status=400, every=1, failures=9))
    [answer] = claude(server).generate_until([ask(0)])
    assert answer.failure.kind is FailureKind.REJECTED and answer.failure.attempts == 1
    assert "injected fault" in answer.failure.message


def test_a_cut_reply_is_retried(start_oracle):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.CUT_BODY, times=1))
    [answer] = claude(server).generate_until([ask(0, "yellow")])
    assert answer.text == "yellow"


def test_key_and_model_version_come_from_the_lmms_eval_names(monkeypatch, oracle):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    model = MODELS.get("claude")(base_url=oracle.base_url, model_version="claude-x")
    assert model.api_key == "from-env" and model.model == "claude-x"
    assert model._headers()["x-api-key"] == "from-env" and "anthropic-version" in model._headers()


def test_the_real_sdk_parses_the_servers_replies_to_our_requests(oracle, start_oracle):
    anthropic = pytest.importorskip("anthropic")
    client = anthropic.Anthropic(base_url=oracle.base_url.removesuffix("/v1"), api_key="k", max_retries=0)
    payload = claude(oracle)._payload(ask(0, "purple"))
    message = client.messages.create(**payload)
    assert message.content[0].text == "purple" and message.usage.output_tokens == 1
    overloaded = start_oracle(fault=FaultPlan(status=529, every=1, failures=9))
    sdk = anthropic.Anthropic(base_url=overloaded.base_url.removesuffix("/v1"), api_key="k", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as raised:
        sdk.messages.create(**payload)
    assert raised.value.status_code == 529 and raised.value.body["error"]["type"] == "overloaded_error"


def test_one_url_twice_in_base_url_is_refused_not_glued(oracle):
    from lmms_eval.errors import ModelError

    with pytest.raises(ModelError, match="more than once"):
        claude(oracle, base_url=f"{oracle.base_url}|{oracle.base_url}")
