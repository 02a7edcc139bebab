"""Judge choice (flags, task default, lmms-eval's environment variables) and the
lmms_eval.llm_judge import path, against the local test server acting as judge."""

from __future__ import annotations

import pytest

from lmms_eval.errors import ConfigError
from lmms_eval.judge import JudgeSpec, environment_args, resolve_judge
from lmms_eval.llm_judge import Request, ServerConfig, get_server
from lmms_eval.llm_judge.protocol import ServerConfig as ProtocolServerConfig

TASK_META = {"version": 1, "gpt_eval_model_name": "gpt-4-0613"}


def test_task_without_judge_never_asks_for_a_key() -> None:
    assert resolve_judge("mme", {"version": 1}, None, {}, env={}) is None


def test_task_needing_a_judge_without_key_fails_in_one_line_naming_the_task() -> None:
    with pytest.raises(ConfigError) as error:
        resolve_judge("mmvet", TASK_META, None, {}, env={})
    message = str(error.value)
    assert "mmvet" in message and "--judge_args" in message and "\n" not in message


def test_task_default_model_then_environment_then_judge_args_model_wins() -> None:
    env = {"OPENAI_API_KEY": "sk-test"}
    assert resolve_judge("mmvet", TASK_META, None, {}, env=env).model == "gpt-4-0613"
    assert resolve_judge("mmvet", TASK_META, None, {}, env={**env, "MODEL_VERSION": "gpt-4o"}).model == "gpt-4o"
    chosen = resolve_judge("mmvet", TASK_META, None, {"model": "judge-b"}, env={**env, "MODEL_VERSION": "gpt-4o"})
    assert chosen.model == "judge-b" and chosen.backend == "openai"


def test_local_judge_by_base_url_needs_no_key() -> None:
    spec = resolve_judge("mmvet", TASK_META, "openai_compatible", {"base_url": "http://127.0.0.1:9/v1"}, env={})
    assert spec.backend == "openai_compatible" and spec.model == "gpt-4-0613"


def test_lmms_eval_environment_variables() -> None:
    args = environment_args({"OPENAI_API_KEY": "k", "OPENAI_API_URL": "http://127.0.0.1:8/v1/chat/completions", "MODEL_VERSION": "m"})
    assert args == {"api_key": "k", "base_url": "http://127.0.0.1:8/v1", "model": "m"}
    with pytest.raises(ConfigError, match="API_TYPE=bedrock"):
        resolve_judge("mmvet", TASK_META, None, {}, env={"API_TYPE": "bedrock", "OPENAI_API_KEY": "k"})


def test_unknown_judge_backend_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match="--judge_model"):
        resolve_judge("mmvet", TASK_META, "no_such_backend", {"base_url": "http://127.0.0.1:9/v1"}, env={})


def test_identity_leaves_out_the_key_and_differs_by_judge() -> None:
    one = JudgeSpec("openai", {"model": "a", "api_key": "secret"})
    assert "secret" not in str(one.public())
    assert one.identity_hash() == JudgeSpec("openai", {"model": "a", "api_key": "other"}).identity_hash()
    assert one.identity_hash() != JudgeSpec("openai", {"model": "b"}).identity_hash()


def test_get_server_at_import_needs_no_key_or_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = get_server("openai", ServerConfig(model_name="gpt-4o"))
    assert server._model is None  # the client is made at the first call
    assert ServerConfig is ProtocolServerConfig
    with pytest.raises(ValueError):
        get_server("no_such_provider")
    assert get_server("dummy").evaluate(Request(messages=[{"role": "user", "content": "hi"}])).content == "dummy"


def test_judge_server_asks_the_local_server(start_oracle, monkeypatch: pytest.MonkeyPatch) -> None:
    judge = start_oracle(model_name="judge-model", canned={"Rate this": "7", "Is the model answer correct?": "yes, 1"})
    monkeypatch.setenv("OPENAI_API_URL", f"{judge.base_url}/chat/completions")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    server = get_server("openai", ServerConfig(model_name="judge-model", max_tokens=16))
    reply = server.evaluate(Request(messages=[{"role": "user", "content": "Rate this answer"}]))
    assert reply.success and reply.content == "7" and reply.model_used == "judge-model"
    verdict = server.evaluate_binary(question="q", answer="a", prediction="p")
    assert verdict["result"] == 1 and verdict["success"]
    assert judge.bodies[0]["max_tokens"] == 16 or judge.bodies[0].get("max_completion_tokens") == 16


def test_failed_judge_call_is_an_unsuccessful_response(start_oracle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    server = get_server("openai", ServerConfig(model_name="judge-model", num_retries=0, timeout=2))
    try:
        reply = server.evaluate(Request(messages=[{"role": "user", "content": "Rate this"}]))
    except Exception as error:  # noqa: BLE001 - a dead server may be refused at the start-up check
        assert "127.0.0.1:9" in str(error)
    else:
        assert not reply.success and reply.error_message
