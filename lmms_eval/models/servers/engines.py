"""`vllm` and `sglang`: batched generation in-process on an inference engine.

Both engines schedule and batch internally, so the whole request stream is handed over in
windows. Where the engine is not installed, choosing it says which extra to install. The
alternative that works everywhere: serve the model with the engine (or `transformers
serve`) and evaluate it with the `openai` backend.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from lmms_eval.api.messages import ChatMessages, to_hf, to_openai, wav_base64
from lmms_eval.api.model import Model
from lmms_eval.api.request import Request
from lmms_eval.api.response import Response
from lmms_eval.errors import ModelError
from lmms_eval.media.frame_cache import FrameCache, backend_video_media
from lmms_eval.media.parts import frames_as_images
from lmms_eval.media.sampling import DEFAULT_DECODER, DEFAULT_MAX_FRAMES, VideoSampling
from lmms_eval.models.common import (
    by_generation_settings,
    failed_batch,
    truncate_at_stops,
    windows,
)

WINDOW = 512  # requests handed to the engine at once: enough to keep it busy, bounded memory


def _require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ModelError(f"the {extra} backend needs the `{extra}` extra: uv sync --extra {extra} --no-dev (or pip install -e '.[{extra}]' in this repository)")


@dataclass(frozen=True)
class EngineMedia:
    """How videos reach an engine: the media layer's sampled frames as images (the same
    frames every backend sends), or whole files that the engine samples itself."""

    sampling: VideoSampling
    keep_videos: bool = False
    frame_cache: FrameCache | None = None

    def messages(self, request: Request) -> ChatMessages:
        messages = request.context if isinstance(request.context, ChatMessages) else ChatMessages.build(request.context, request.visuals)
        return messages if self.keep_videos else frames_as_images(messages, self.sampling, self.frame_cache)

    def sglang_inputs(self, messages: ChatMessages) -> dict[str, Any]:
        """SGLang's per-prompt media lists: images as PIL objects, videos as file paths,
        audio as base64 WAV (the forms its Engine.generate takes)."""
        parts = [part for message in messages for part in message.content]
        return {
            "image_data": [part.media for part in parts if part.type == "image"],
            "video_data": [str(part.media) for part in parts if part.type == "video"],
            "audio_data": [wav_base64(part.media) for part in parts if part.type == "audio"],
        }


def engine_media(
    max_frames_num: int, fps: float | None, max_pixels: int | None, pass_video_url: bool, use_frame_cache: bool, video_decoder: str = DEFAULT_DECODER
) -> EngineMedia:
    sampling, frame_cache = backend_video_media(max_frames_num, fps, max_pixels, video_decoder, use_frame_cache)
    return EngineMedia(sampling, bool(pass_video_url), frame_cache)


def _sampling(gen_kwargs: Any, default_max_tokens: int) -> dict[str, Any]:
    """Task generation kwargs in the engines' shared vocabulary."""
    sampling = bool(gen_kwargs.get("do_sample", False)) or float(gen_kwargs.get("temperature") or 0) > 0
    options = {
        "max_new_tokens": int(gen_kwargs.get("max_new_tokens") or default_max_tokens),
        "temperature": float(gen_kwargs.get("temperature") or 1.0) if sampling else 0.0,
        "stop": [stop for stop in gen_kwargs.get("until") or [] if stop],
    }
    if sampling and gen_kwargs.get("top_p") is not None:
        options["top_p"] = float(gen_kwargs["top_p"])
    return options


class _EngineBackend(Model):
    """The request loop both engines share; a subclass starts its engine and generates
    one group of requests with identical settings."""

    is_chat = True

    def __init__(
        self,
        pretrained: str,
        max_new_tokens: int = 1024,
        batch_size: int = 1,
        max_frames_num: int = DEFAULT_MAX_FRAMES,
        fps: float | None = None,
        max_pixels: int | None = None,
        pass_video_url: bool = False,
        use_frame_cache: bool = True,
        video_decoder: str = DEFAULT_DECODER,
        **unused: Any,
    ) -> None:
        super().__init__(**unused)
        self.pretrained = pretrained
        self.max_new_tokens = int(max_new_tokens)
        self.media = engine_media(max_frames_num, fps, max_pixels, pass_video_url, use_frame_cache, video_decoder)
        self.engine: Any = None

    @classmethod
    def create(cls, model_args: dict[str, Any], *, batch_size: int = 1, device: str | None = None) -> Model:
        return cls(**{"batch_size": batch_size, **model_args})

    @property
    def identity(self) -> str:
        return self.pretrained

    # The media layer's view of this backend (Model.use_task_kwargs, decoding ahead): the
    # sampling spec lives in `self.media`, so a task's spec replaces it there.
    @property
    def video_sampling(self) -> VideoSampling:  # type: ignore[override]
        return self.media.sampling

    @video_sampling.setter
    def video_sampling(self, sampling: VideoSampling) -> None:
        self.media = replace(self.media, sampling=sampling)

    @property
    def frame_cache(self) -> FrameCache | None:
        return self.media.frame_cache

    def wants_frames(self) -> bool:
        return not self.media.keep_videos

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        for window in windows(requests, WINDOW):
            for group in by_generation_settings(window):
                try:
                    texts = self._generate(group, _sampling(group[0].gen_kwargs, self.max_new_tokens))
                except Exception as error:  # noqa: BLE001 - the engine failed this group: record it, go on
                    yield from failed_batch(group, error)
                    continue
                for request, text in zip(group, texts):
                    yield Response.generated(request, truncate_at_stops(text, request.gen_kwargs.get("until")))

    def _generate(self, group: list[Request], options: dict[str, Any]) -> list[str]:
        raise NotImplementedError


class VLLMModel(_EngineBackend):
    transport_args = ("gpu_memory_utilization", "batch_size")

    def __init__(
        self,
        pretrained: str,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        dtype: str = "auto",
        trust_remote_code: bool = False,
        max_images: int = 16,
        max_audios: int = 0,
        **rest: Any,
    ) -> None:
        super().__init__(pretrained, **rest)
        _require("vllm", "vllm")
        from vllm import LLM

        options = {"max_model_len": max_model_len} if max_model_len else {}
        self.engine = LLM(
            model=pretrained, tensor_parallel_size=int(tensor_parallel_size), gpu_memory_utilization=float(gpu_memory_utilization),
            dtype=dtype, trust_remote_code=trust_remote_code, limit_mm_per_prompt=vllm_media_limits(self.media, int(max_images), int(max_audios)), **options,
        )

    def _generate(self, group: list[Request], options: dict[str, Any]) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=options.pop("max_new_tokens"), **options)
        outputs = self.engine.chat([to_openai(self.media.messages(request)) for request in group], params, use_tqdm=False)
        return [output.outputs[0].text for output in outputs]

    def close(self) -> None:
        self.engine = None


def vllm_media_limits(media: EngineMedia, max_images: int, max_audios: int) -> dict[str, int]:
    """vLLM's per-prompt item limits: sampled frames count as images; a modality is named
    only when it can occur (vLLM refuses limits for modalities a model lacks)."""
    limits = {"image": max(max_images, media.sampling.max_frames_num)}
    if media.keep_videos:
        limits["video"] = 1
    if max_audios > 0:
        limits["audio"] = max_audios
    return limits


class SGLangModel(_EngineBackend):
    transport_args = ("mem_fraction_static", "batch_size")

    def __init__(
        self,
        pretrained: str,
        tensor_parallel_size: int = 1,
        mem_fraction_static: float | None = None,
        trust_remote_code: bool = False,
        **rest: Any,
    ) -> None:
        super().__init__(pretrained, **rest)
        _require("sglang", "sglang")
        import sglang
        from transformers import AutoProcessor

        options = {"mem_fraction_static": float(mem_fraction_static)} if mem_fraction_static else {}
        # SGLang takes a rendered prompt plus images: the model's own chat template renders it.
        self.processor = AutoProcessor.from_pretrained(pretrained, trust_remote_code=trust_remote_code)
        self.engine = sglang.Engine(model_path=pretrained, tp_size=int(tensor_parallel_size), trust_remote_code=trust_remote_code, **options)

    def _generate(self, group: list[Request], options: dict[str, Any]) -> list[str]:
        prompts, media = [], []
        for request in group:
            messages = self.media.messages(request)
            prompts.append(self.processor.apply_chat_template(to_hf(messages), add_generation_prompt=True, tokenize=False))
            media.append(self.media.sglang_inputs(messages))
        # One list per modality, one entry (None when the prompt has none) per prompt.
        extra = {name: [inputs[name] or None for inputs in media] for name in ("image_data", "video_data", "audio_data") if any(inputs[name] for inputs in media)}
        return [output["text"] for output in self.engine.generate(prompt=prompts, sampling_params=options, **extra)]

    def close(self) -> None:
        if self.engine is not None:
            self.engine.shutdown()
        self.engine = None
