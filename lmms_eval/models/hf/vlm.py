"""`huggingface`: image-text-to-text models through AutoModelForImageTextToText,
AutoProcessor and the model's own chat template (Qwen2/2.5/3-VL, LLaVA, LLaVA-NeXT,
LLaVA-OneVision, Idefics3/SmolVLM, Gemma 3, InternVL in HF format, ...)."""

from __future__ import annotations

from typing import Any, ClassVar

from lmms_eval.api.messages import ChatMessages, to_hf
from lmms_eval.api.request import Request
from lmms_eval.media.frame_cache import backend_video_media
from lmms_eval.media.sampling import DEFAULT_DECODER, DEFAULT_MAX_FRAMES
from lmms_eval.models.hf.base import TransformersBackend
from lmms_eval.models.hf.video_inputs import decode_videos, video_processor_kwargs


class HFVisionLanguageModel(TransformersBackend):
    is_chat = True
    model_kind = "an image-text-to-text model"
    #: Video-processor kwargs a family needs on every call (see Qwen2VL).
    video_kwargs: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        pretrained: str,
        max_pixels: int | None = None,
        min_pixels: int | None = None,
        max_frames_num: int = DEFAULT_MAX_FRAMES,
        fps: float | None = None,
        use_frame_cache: bool = True,
        video_decoder: str = DEFAULT_DECODER,
        **rest: Any,
    ) -> None:
        # Bounds on image tokens, for processors that take them (Qwen-VL's).
        self._processor_kwargs = {name: value for name, value in (("max_pixels", max_pixels), ("min_pixels", min_pixels)) if value is not None}
        # Videos are sampled by the media layer, as for every other backend: the same frames.
        self.video_sampling, self.frame_cache = backend_video_media(max_frames_num, fps, max_pixels, video_decoder, use_frame_cache)
        super().__init__(pretrained, **rest)

    def _load(self, folder: str, gguf_file: str | None, weights: dict[str, Any]) -> Any:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        revision, remote_code = weights.get("revision"), weights["trust_remote_code"]
        self.processor = AutoProcessor.from_pretrained(folder, revision=revision, trust_remote_code=remote_code, **self._processor_kwargs)
        return AutoModelForImageTextToText.from_pretrained(folder, **weights).eval()

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer

    def accepts(self, kind: str) -> bool:
        """What the checkpoint's processor has a sub-processor for."""
        return getattr(self.processor, _SUBPROCESSOR[kind], None) is not None if kind in _SUBPROCESSOR else False

    def prepare_messages(self, messages: ChatMessages) -> ChatMessages:
        """A family's changes to the media before the processor sees them (none here)."""
        return messages

    def processor_call_kwargs(self) -> dict[str, Any]:
        """Keyword arguments a family's processor needs on every call (none here)."""
        return {}

    def encode(self, requests: list[Request], padding_side: str) -> dict[str, Any]:
        """The chat template renders each conversation; the processor expands image
        placeholders into image tokens and makes the pixel tensors."""
        decoded = [decode_videos(self.prepare_messages(_as_messages(request)), self.video_sampling, self.frame_cache) for request in requests]
        processor_kwargs: dict[str, Any] = {"padding": True, **self.processor_call_kwargs(), **video_processor_kwargs(decoded)}
        if "video_metadata" in processor_kwargs:
            processor_kwargs.update(self.video_kwargs)
        self.processor.tokenizer.padding_side = padding_side
        return dict(
            self.processor.apply_chat_template(
                [to_hf(conversation.messages) for conversation in decoded],
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                processor_kwargs=processor_kwargs,
            )
        )


# The processor part that takes each media kind.
_SUBPROCESSOR = {"image": "image_processor", "video": "video_processor", "audio": "feature_extractor"}


def _as_messages(request: Request) -> ChatMessages:
    if isinstance(request.context, ChatMessages):
        return request.context
    return ChatMessages.build(request.context, request.visuals)


# Names users type today. Each is the same backend; a family that needs different handling
# gets a subclass that overrides what differs, never a branch on its name.
class Qwen2VL(HFVisionLanguageModel):
    """Qwen2-VL, Qwen2.5-VL and Qwen3-VL: max_pixels/min_pixels bound the image tokens.

    `cap_pixels_per_frame`: each video frame keeps within the pixel budget, as in Qwen's
    reference preprocessing (qwen-vl-utils) that lmms-eval's wrappers use.
    """

    video_kwargs = {"cap_pixels_per_frame": True}


class Gemma3(HFVisionLanguageModel):
    """Gemma 3 is trained in bfloat16 and overflows in float16."""

    family_defaults = {"dtype": "bfloat16"}
