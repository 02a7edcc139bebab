"""The `gemini` (`gemini_api`) backend against the local server's generateContent."""

from __future__ import annotations

import base64

import pytest
from protocol_helpers import FAST, ask, ask_with_system, colour_scores

from lmms_eval.api.response import FailureKind, Usage
from lmms_eval.models import MODELS
from lmms_eval.models.api.gemini_generate import GeminiGenerate
from lmms_eval.testing.server import FaultPlan, Misbehaviour, MisbehaviourPlan


def gemini_url(server) -> str:
    return server.base_url.removesuffix("/v1") + "/v1beta"


def gemini(server, **args) -> GeminiGenerate:
    return GeminiGenerate(base_url=gemini_url(server), model="colour-oracle", **{**FAST, **args})


def test_gemini_scores_the_image_task_as_openai_does(oracle, colour_task, tmp_path):
    openai = colour_scores("openai", oracle.base_url, colour_task, tmp_path / "openai")
    google = colour_scores("gemini_api", gemini_url(oracle), colour_task, tmp_path / "gemini")
    assert google["scores"] == openai["scores"]
    assert google["requests"]["failed"] == 0
    assert google["requests"]["usage"] == openai["requests"]["usage"]


def test_the_request_carries_inline_image_system_instruction_and_limits(oracle):
    model = gemini(oracle)
    [answer] = model.generate_until([ask(0, "orange", max_new_tokens=5, until=["\n"])])
    assert answer.text == "orange" and answer.usage == Usage(12, 1)
    assert oracle.bodies[0]["max_tokens"] == 5 and oracle.bodies[0]["stop"] == ["\n"]
    payload = model._payload(ask_with_system(1, "Be brief.", "Hi"))
    assert payload["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [content["role"] for content in payload["contents"]] == ["user"]


@pytest.mark.parametrize(
    ("behaviour", "kind", "reason"),
    [
        (Misbehaviour.PROMPT_BLOCKED, FailureKind.REJECTED, "blockReason SAFETY"),
        (Misbehaviour.ANSWER_BLOCKED, FailureKind.REJECTED, "finishReason SAFETY"),
        (Misbehaviour.NO_CANDIDATES, FailureKind.BAD_RESPONSE, "no candidates"),
    ],
)
def test_blocks_and_empty_candidates_are_failures_with_their_reason(start_oracle, behaviour, kind, reason):
    server = start_oracle(misbehaviour=MisbehaviourPlan(behaviour))
    [answer] = gemini(server).generate_until([ask(0)])
    assert answer.text is None and answer.failure.kind is kind and reason in answer.failure.message
    assert answer.failure.attempts == 1  # asking again gets the same block


def test_rate_limits_are_retried_with_retry_after(start_oracle):
    server = start_oracle(fault=FaultPlan(status=429, every=1, failures=2, retry_after="0"))
    [answer] = gemini(server).generate_until([ask(0, "white")])
    assert answer.text == "white" and server.chat_requests == 3


def test_key_from_either_google_variable(monkeypatch, oracle):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-env")
    model = MODELS.get("gemini_api")(base_url=gemini_url(oracle), model_version="models/gemini-x")
    assert model.api_key == "gemini-env" and model._headers() == {"x-goog-api-key": "gemini-env"}
    assert model._generate_url().endswith("/models/gemini-x:generateContent")


def test_the_real_sdk_talks_to_the_test_server_in_the_protocol_we_speak(oracle):
    genai = pytest.importorskip("google.genai")
    from google.genai import types

    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=oracle.base_url.removesuffix("/v1"), api_version="v1beta"))
    payload = gemini(oracle)._payload(ask(0, "green"))
    image = payload["contents"][0]["parts"][0]["inlineData"]
    contents = [types.Part.from_bytes(data=base64.b64decode(image["data"]), mime_type=image["mimeType"]), "What colour?"]
    reply = client.models.generate_content(model="colour-oracle", contents=contents, config=types.GenerateContentConfig(max_output_tokens=4))
    assert reply.text == "green" and reply.usage_metadata.candidates_token_count == 1
    assert oracle.bodies[-1]["max_tokens"] == 4  # the SDK's request was read as ours is
