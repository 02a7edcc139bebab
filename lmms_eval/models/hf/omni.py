"""`qwen2_5_omni`: Qwen2.5-Omni's thinker (text out) on audio, images and video together.

Clips are resampled to the feature extractor's rate (16 kHz) as for `qwen2_audio`; videos
are the media layer's frames, as for every HF backend. Only the thinker answers: a full
checkpoint (thinker, talker, token2wav) is loaded whole and its speech parts dropped.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.models.hf.audio_lm import _at_rate
from lmms_eval.models.hf.vlm import Qwen2VL


class Qwen2_5Omni(Qwen2VL):
    model_kind = "a Qwen2.5-Omni model"

    def _load(self, folder: str, gguf_file: str | None, weights: dict[str, Any]) -> Any:
        from transformers import AutoConfig, AutoProcessor, Qwen2_5OmniForConditionalGeneration, Qwen2_5OmniThinkerForConditionalGeneration

        revision, remote_code = weights.get("revision"), weights["trust_remote_code"]
        self.processor = AutoProcessor.from_pretrained(folder, revision=revision, trust_remote_code=remote_code, **self._processor_kwargs)
        config = AutoConfig.from_pretrained(folder, revision=revision, trust_remote_code=remote_code)
        if getattr(config, "thinker_config", None) is None:  # a thinker saved alone
            return Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(folder, **weights).eval()
        full = Qwen2_5OmniForConditionalGeneration.from_pretrained(folder, **weights)
        return full.thinker.eval()  # the talker and token2wav go with `full`

    @property
    def _audio_rate(self) -> int:
        return int(self.processor.feature_extractor.sampling_rate)

    def prepare_messages(self, messages: ChatMessages) -> ChatMessages:
        return _at_rate(messages, self._audio_rate)

    def processor_call_kwargs(self) -> dict[str, Any]:
        return {"sampling_rate": self._audio_rate}
