"""`gemini` / `gemini_api`: Google's generateContent, spoken over the shared HTTP engine.

Raw HTTP rather than the `google-genai` SDK: see docs/models.md ("Claude and Gemini").
A reply that a safety filter blocked, or one without candidates, is a recorded failure
naming the reason: never an empty answer scored as wrong.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import wav_base64
from lmms_eval.api.request import Request
from lmms_eval.api.response import FailureKind, Usage
from lmms_eval.media.parts import video_file_base64
from lmms_eval.models.api.openai_chat import OpenAIChat, _Completion, _excerpt, _Final
from lmms_eval.models.api.protocol_parts import image_blob, loaded_json, split_system, token_count

ROLES = {"user": "user", "assistant": "model"}
ANSWERED_FINISHES = frozenset({"STOP", "MAX_TOKENS", "FINISH_REASON_UNSPECIFIED", None})


class GeminiGenerate(OpenAIChat):
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    base_url_env = ("GEMINI_BASE_URL",)
    api_key_env = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    provider = "google"

    def __init__(self, model: str | None = None, model_version: str | None = None, **args: Any) -> None:
        super().__init__(model=(model or model_version or "gemini-2.5-flash").removeprefix("models/"), **args)

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key} if self.api_key else {}

    def _listed_models(self, body: Any) -> list[str]:
        entries = body.get("models", []) if isinstance(body, dict) else []
        return [entry["name"].removeprefix("models/") for entry in entries if isinstance(entry, dict) and isinstance(entry.get("name"), str)]

    def _generate_url(self) -> str:
        return f"{self.base_url}/models/{self.model}:generateContent"

    def _payload(self, request: Request) -> dict[str, Any]:
        system, turns = split_system(self._conversation(request))
        contents = [{"role": ROLES[turn.role], "parts": [self._part(part) for part in turn.content]} for turn in turns]
        payload: dict[str, Any] = {"contents": contents, "generationConfig": self._generation_config(request.gen_kwargs)}
        if system:
            payload["systemInstruction"] = {"parts": [{"text": system}]}
        return payload

    def _generation_config(self, gen_kwargs: Any) -> dict[str, Any]:
        sampling = self._sampling(gen_kwargs)
        config: dict[str, Any] = {"maxOutputTokens": sampling["max_tokens"], "temperature": sampling["temperature"]}
        names = {"top_p": "topP", "stop": "stopSequences", "seed": "seed"}
        config.update({names[key]: value for key, value in sampling.items() if key in names})
        return config

    def _part(self, part: Any) -> dict[str, Any]:
        if part.type == "text":
            return {"text": part.text or ""}
        if part.type == "image":
            blob = image_blob(part, self.image_format, "Gemini")
            return {"inlineData": {"mimeType": blob.media_type, "data": blob.data}}
        if part.type == "video":  # kept whole only with pass_video_url: Gemini samples it itself
            mime, data = video_file_base64(part.media)
            return {"inlineData": {"mimeType": mime, "data": data}}
        if part.type == "audio":
            return {"inlineData": {"mimeType": "audio/wav", "data": wav_base64(part.media)}}
        raise ValueError(f"the Gemini format cannot carry {part.type} inputs here")

    def _parse_reply(self, body: bytes) -> _Completion:
        return parse_generation(body, self)


def parse_generation(body: bytes, model: OpenAIChat) -> _Completion:
    """The first candidate's text and the usage; blocks and empty replies fail with their reason."""
    data = loaded_json(body)
    if not isinstance(data, dict) or "error" in data:
        raise _Final(FailureKind.BAD_RESPONSE, f"not a GenerateContentResponse: {_excerpt(body, model._redact)}")
    feedback = data.get("promptFeedback")
    blocked = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if blocked:
        raise _Final(FailureKind.REJECTED, f"the prompt was blocked (blockReason {blocked})")
    candidates = data.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        raise _Final(FailureKind.BAD_RESPONSE, "the reply has no candidates")
    candidate = candidates[0]
    finish = candidate.get("finishReason")
    if finish not in ANSWERED_FINISHES:
        raise _Final(FailureKind.REJECTED, f"the answer was withheld (finishReason {finish})")
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    texts = [part["text"] for part in parts or [] if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")]
    if not texts:
        raise _Final(FailureKind.BAD_RESPONSE, f"the candidate has no text (finishReason {finish})")
    usage, problem = _usage(data.get("usageMetadata"))
    return _Completion("".join(texts), usage, problem)


def _usage(block: Any) -> tuple[Usage | None, str | None]:
    if not isinstance(block, dict):
        return None, None if block is None else "usageMetadata is not an object"
    counts = [token_count(block.get(name, 0)) for name in ("promptTokenCount", "candidatesTokenCount")]
    if None in counts:
        return None, "usageMetadata token counts are not counts of tokens"
    return Usage(*counts), None  # type: ignore[arg-type]
