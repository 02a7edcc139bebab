"""lmms-eval's judge import path (`from lmms_eval.llm_judge import get_server, ServerConfig,
Request`) mapped onto this project's backends.

Seventeen lmms-eval task files call `get_server` at import, so making a server needs no
key, no connection and no SDK: the backend is built at the first `evaluate` call.
"""

from __future__ import annotations

import os
from typing import Any

from lmms_eval.llm_judge.protocol import Request, Response, ServerConfig

__all__ = ["JudgeServer", "Request", "Response", "ServerConfig", "get_server"]

#: lmms-eval's provider names, each mapped to a registered backend and how it finds its endpoint.
PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "async_openai": "openai",
    "azure": "openai",
    "async_azure": "openai",
    "local": "openai_compatible",
    "dummy": "dummy",  # answers "dummy" without a backend, as lmms-eval's does
}


class JudgeServer:
    """A lazily built judge: the backend and its args are fixed now, the client later."""

    def __init__(self, provider: str, config: ServerConfig | None) -> None:
        self.provider = provider
        self.config = config or ServerConfig(model_name=os.environ.get("MODEL_VERSION", "gpt-4o-2024-11-20"))
        self._model: Any = None

    def backend_args(self) -> dict[str, Any]:
        """What the backend is built with, from lmms-eval's environment variables."""
        from lmms_eval.judge import environment_args

        args = environment_args(os.environ)
        if self.provider == "local" and os.environ.get("LLM_JUDGE_URL"):
            args["base_url"] = os.environ["LLM_JUDGE_URL"]
        args["model"] = self.config.model_name
        args["max_retries"] = self.config.num_retries
        args["timeout"] = float(self.config.timeout)
        return args

    def _backend(self) -> Any:
        if self._model is None:
            from lmms_eval.models import MODELS

            self._model = MODELS.get(PROVIDERS[self.provider])(**self.backend_args())
        return self._model

    def evaluate(self, request: Request) -> Response:
        """Ask once (the backend retries); a failed call is a Response with success=False."""
        from lmms_eval.api.messages import ChatMessages
        from lmms_eval.api.request import Origin, RequestType
        from lmms_eval.api.request import Request as ModelRequest

        config = request.config or self.config
        if self.provider == "dummy":
            return Response("dummy", config.model_name)
        messages = request.messages
        if config.system_prompt and not any(message.get("role") == "system" for message in messages):
            messages = [{"role": "system", "content": config.system_prompt}, *messages]
        gen_kwargs = {"temperature": config.temperature, "max_new_tokens": config.max_tokens}
        if config.top_p is not None:
            gen_kwargs["top_p"] = config.top_p
        asked = ModelRequest(RequestType.GENERATE_UNTIL, Origin("llm_judge", 0), ChatMessages.from_dicts(messages), gen_kwargs=gen_kwargs)
        (answer,) = list(self._backend().generate_until([asked]))
        usage = None if answer.usage is None else {"prompt_tokens": answer.usage.prompt_tokens, "completion_tokens": answer.usage.completion_tokens}
        if answer.failure is not None:
            return Response("", config.model_name, usage, success=False, error_message=answer.failure.message)
        return Response(answer.text or "", config.model_name, usage)

    def evaluate_binary(self, question: str, answer: str, prediction: str, output_format: str = "0/1", custom_prompt: str | None = None) -> dict[str, Any]:
        """lmms-eval's binary verdict: "0/1" is 1 when the reply contains a 1 anywhere,
        "yes/no" is True when it is or starts with yes."""
        prompt = (custom_prompt or BINARY_PROMPT).format(question=question, answer=answer, pred=prediction, prediction=prediction)
        reply = self.evaluate(Request(messages=[{"role": "user", "content": prompt}]))
        text = reply.content.strip().lower()
        result: Any = int("1" in text) if output_format == "0/1" else text.startswith("yes")
        return {"result": result, "raw_response": reply.content, "model": reply.model_used, "prompt": prompt, "success": reply.success}


BINARY_PROMPT = (
    "Question: {question}\nReference answer: {answer}\nModel answer: {prediction}\n"
    "Is the model answer correct? Reply with 1 for correct or 0 for incorrect."
)


def get_server(server_name: str = "openai", config: ServerConfig | None = None) -> JudgeServer:
    """A judge for lmms-eval's provider name; an unknown name is a ValueError, as there."""
    if server_name not in PROVIDERS:
        raise ValueError(f"unknown judge server '{server_name}'; known: {', '.join(sorted(PROVIDERS))}")
    return JudgeServer(server_name, config)
