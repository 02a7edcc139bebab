"""`huggingface`: image-text-to-text models through AutoModelForImageTextToText,
AutoProcessor and the model's own chat template (Qwen2/2.5/3-VL, LLaVA, LLaVA-NeXT,
LLaVA-OneVision, Idefics3/SmolVLM, Gemma 3, InternVL in HF format, ...)."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import ChatMessages, to_hf
from lmms_eval.api.request import Request
from lmms_eval.models.hf.base import TransformersBackend


class HFVisionLanguageModel(TransformersBackend):
    is_chat = True
    model_kind = "an image-text-to-text model"

    def __init__(self, pretrained: str, max_pixels: int | None = None, min_pixels: int | None = None, **rest: Any) -> None:
        # Bounds on image tokens, for processors that take them (Qwen-VL's).
        self._processor_kwargs = {name: value for name, value in (("max_pixels", max_pixels), ("min_pixels", min_pixels)) if value is not None}
        super().__init__(pretrained, **rest)

    def _load(self, folder: str, gguf_file: str | None, weights: dict[str, Any]) -> Any:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        revision, remote_code = weights.get("revision"), weights["trust_remote_code"]
        self.processor = AutoProcessor.from_pretrained(folder, revision=revision, trust_remote_code=remote_code, **self._processor_kwargs)
        return AutoModelForImageTextToText.from_pretrained(folder, **weights).eval()

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer

    def encode(self, requests: list[Request], padding_side: str) -> dict[str, Any]:
        """The chat template renders each conversation; the processor expands image
        placeholders into image tokens and makes the pixel tensors."""
        conversations = [to_hf(_as_messages(request)) for request in requests]
        self.processor.tokenizer.padding_side = padding_side
        return dict(
            self.processor.apply_chat_template(
                conversations,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                processor_kwargs={"padding": True},
            )
        )


def _as_messages(request: Request) -> ChatMessages:
    if isinstance(request.context, ChatMessages):
        return request.context
    return ChatMessages.build(request.context, request.visuals)


# Names users type today. Each is the same backend; a family that needs different handling
# gets a subclass that overrides what differs, never a branch on its name.
class Qwen2VL(HFVisionLanguageModel):
    """Qwen2-VL, Qwen2.5-VL and Qwen3-VL: max_pixels/min_pixels bound the image tokens."""


class Gemma3(HFVisionLanguageModel):
    """Gemma 3 is trained in bfloat16 and overflows in float16."""

    family_defaults = {"dtype": "bfloat16"}
