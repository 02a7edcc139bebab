"""`qwen2_audio`: audio-language models through their processor and chat template.

The processor's feature extractor fixes the sampling rate it needs (16 kHz for Qwen2-Audio's
Whisper encoder); clips are resampled to it with soxr before the processor sees them.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import ChatMessages, ContentPart, Message, to_hf
from lmms_eval.api.request import Request
from lmms_eval.models.hf.vlm import HFVisionLanguageModel, _as_messages


class Qwen2Audio(HFVisionLanguageModel):
    """Qwen2-Audio(-Instruct): Qwen2AudioForConditionalGeneration + Qwen2AudioProcessor."""

    model_kind = "an audio-language model"

    def _load(self, folder: str, gguf_file: str | None, weights: dict[str, Any]) -> Any:
        from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

        revision, remote_code = weights.get("revision"), weights["trust_remote_code"]
        self.processor = AutoProcessor.from_pretrained(folder, revision=revision, trust_remote_code=remote_code)
        return Qwen2AudioForConditionalGeneration.from_pretrained(folder, **weights).eval()

    def encode(self, requests: list[Request], padding_side: str) -> dict[str, Any]:
        rate = int(self.processor.feature_extractor.sampling_rate)
        conversations = [to_hf(_at_rate(_as_messages(request), rate)) for request in requests]
        self.processor.tokenizer.padding_side = padding_side
        return dict(
            self.processor.apply_chat_template(
                conversations, add_generation_prompt=True, tokenize=True, return_dict=True,
                return_tensors="pt", processor_kwargs={"padding": True, "sampling_rate": rate},
            )
        )  # fmt: skip


def _at_rate(messages: ChatMessages, rate: int) -> ChatMessages:
    """The same messages with every audio part decoded and resampled to `rate`."""
    from lmms_eval.media.audio import load_audio

    def part_at_rate(part: ContentPart) -> ContentPart:
        if part.type != "audio":
            return part
        return ContentPart(type="audio", media=load_audio(part.media, rate).as_dict())

    return ChatMessages(tuple(Message(message.role, tuple(part_at_rate(p) for p in message.content)) for message in messages))
