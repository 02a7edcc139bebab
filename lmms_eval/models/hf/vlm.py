"""`huggingface`: image-text-to-text models through AutoModelForImageTextToText,
AutoProcessor and the model's own chat template (Qwen2/2.5/3-VL, LLaVA, LLaVA-NeXT,
LLaVA-OneVision, Idefics3/SmolVLM, Gemma 3, InternVL in HF format, ...)."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import ChatMessages, to_hf
from lmms_eval.api.request import Request
from lmms_eval.errors import ModelError
from lmms_eval.models.hf.base import TransformersBackend
from lmms_eval.models.hf.loading import load_kwargs, resolve_device, split_gguf


class HFVisionLanguageModel(TransformersBackend):
    is_chat = True

    def __init__(
        self,
        pretrained: str,
        revision: str | None = None,
        dtype: str = "auto",
        device: str | None = None,
        device_map: str | None = None,
        attn_implementation: str | None = None,
        max_pixels: int | None = None,
        min_pixels: int | None = None,
        trust_remote_code: bool = False,
        gguf_file: str | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(pretrained, **rest)
        from transformers import AutoModelForImageTextToText, AutoProcessor

        folder, gguf = split_gguf(pretrained, gguf_file)
        kwargs = load_kwargs(revision, dtype, device_map, attn_implementation, trust_remote_code, gguf)
        processor_kwargs = {name: value for name, value in (("max_pixels", max_pixels), ("min_pixels", min_pixels)) if value is not None}
        try:
            self.processor = AutoProcessor.from_pretrained(folder, revision=revision, trust_remote_code=trust_remote_code, **processor_kwargs)
            self.model = AutoModelForImageTextToText.from_pretrained(folder, **kwargs).eval()
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot load '{pretrained}' as an image-text-to-text model: {str(error).splitlines()[0]}") from None
        if device_map is None:
            self.model.to(resolve_device(device))

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
