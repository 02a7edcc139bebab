"""`anthropic` / `claude`: Anthropic's Messages API, spoken over the shared HTTP engine.

Raw HTTP rather than the `anthropic` SDK: see docs/models.md ("Claude and Gemini") for
the measurement. Everything but the request and reply shapes (workers, retries with
Retry-After, the circuit breaker, the start-up check) is the `openai` backend's engine.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.api.request import Request
from lmms_eval.api.response import FailureKind, Usage
from lmms_eval.models.api.openai_chat import MAX_STOP_SEQUENCES, OpenAIChat, _Completion, _excerpt, _Final
from lmms_eval.models.api.protocol_parts import image_blob, loaded_json, split_system, token_count

API_VERSION = "2023-06-01"  # the anthropic-version header the Messages API requires


class AnthropicMessages(OpenAIChat):
    default_base_url = "https://api.anthropic.com/v1"
    base_url_env = ("ANTHROPIC_BASE_URL",)
    api_key_env = ("ANTHROPIC_API_KEY",)
    provider = "anthropic"

    def __init__(self, model: str | None = None, model_version: str | None = None, send_sampling: bool = False, **args: Any) -> None:
        super().__init__(model=model or model_version or "claude-sonnet-4-5", **args)
        # The Messages API as the anthropic SDK 2.x knows it has no temperature or top_p:
        # sent only when asked, for the older models and proxies that take them.
        self.send_sampling = bool(send_sampling)

    def accepts(self, kind: str) -> bool:
        return kind != "audio"  # the Messages API takes images (and videos as their frames), no audio

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def _generate_url(self) -> str:
        return f"{self.base_url}/messages"

    def _payload(self, request: Request) -> dict[str, Any]:
        system, turns = split_system(self._conversation(request))
        messages = [{"role": turn.role, "content": [self._block(part) for part in turn.content]} for turn in turns]
        payload: dict[str, Any] = {"model": self.model, "messages": messages}
        if system:
            payload["system"] = system
        sampling = self._sampling(request.gen_kwargs)
        payload["max_tokens"] = sampling["max_tokens"]
        if self.send_sampling:
            payload["temperature"] = min(1.0, sampling["temperature"])  # the API's range is 0..1
            if "top_p" in sampling:
                payload["top_p"] = sampling["top_p"]
        if "stop" in sampling:
            payload["stop_sequences"] = sampling["stop"][:MAX_STOP_SEQUENCES]
        return payload

    def _block(self, part: Any) -> dict[str, Any]:
        if part.type == "text":
            return {"type": "text", "text": part.text or ""}
        if part.type == "image":
            blob = image_blob(part, self.image_format, "Anthropic Messages")
            return {"type": "image", "source": {"type": "base64", "media_type": blob.media_type, "data": blob.data}}
        if part.type == "video":
            raise ValueError("the Anthropic Messages format takes no whole videos: leave pass_video_url false to send sampled frames")
        raise ValueError(f"the Anthropic Messages format cannot carry {part.type} inputs")

    def _parse_reply(self, body: bytes) -> _Completion:
        return parse_message(body, self)


def parse_message(body: bytes, model: OpenAIChat) -> _Completion:
    """A Message's text blocks joined, and its usage; anything else is a `bad_response`."""
    data = loaded_json(body)
    if not isinstance(data, dict) or data.get("type") == "error" or not isinstance(data.get("content"), list):
        raise _Final(FailureKind.BAD_RESPONSE, f"not a Message: {_excerpt(body, model._redact)}")
    texts = [block["text"] for block in data["content"] if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)]
    if not texts:
        reason = data.get("stop_reason")
        raise _Final(FailureKind.BAD_RESPONSE, f"the Message has no text content (stop_reason {reason!r})")
    usage, problem = _usage(data.get("usage"))
    return _Completion("".join(texts), usage, problem)


def _usage(block: Any) -> tuple[Usage | None, str | None]:
    if not isinstance(block, dict):
        return None, None if block is None else "usage is not an object"
    counts = [token_count(block.get(name, 0)) for name in ("input_tokens", "output_tokens")]
    if None in counts:
        return None, "usage.input_tokens/output_tokens are not counts of tokens"
    return Usage(*counts), None  # type: ignore[arg-type]
