"""`qwen2_5_omni`: audio and video together reach a tiny Qwen2.5-Omni thinker."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_omni

from lmms_eval.api.messages import ChatMessages, ContentPart, Message
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.models import MODELS
from lmms_eval.testing.videos import write_test_video


@pytest.fixture(scope="module")
def omni_path(tmp_path_factory):
    return tiny_omni.build_qwen2_5_omni(tmp_path_factory.mktemp("omni"))


def test_audio_and_video_reach_the_thinker(omni_path, tmp_path):
    clip = write_test_video(tmp_path / "clip.mp4", seconds=2, fps=10)
    audio = {"array": np.sin(np.linspace(0, 400, 8000)).astype(np.float32), "sampling_rate": 8000}  # resampled to 16 kHz
    messages = ChatMessages((Message("user", (ContentPart("audio", media=audio), ContentPart("video", media=str(clip)), ContentPart("text", text="What?"))),))
    backend = MODELS.get("qwen2_5_omni").create({"pretrained": str(omni_path), "device": "cpu", "max_frames_num": 4, "use_frame_cache": False, "max_new_tokens": 2})
    assert all(backend.accepts(kind) for kind in ("image", "video", "audio"))
    request = Request(RequestType.GENERATE_UNTIL, Origin("omni", 0), messages)
    inputs = backend.encode([request], padding_side="left")
    assert inputs["video_grid_thw"][0][0].item() == 2  # 4 frames, two per temporal patch
    assert int(inputs["feature_attention_mask"].sum()) == 100  # 1 s at 16 kHz: 100 mel frames of 10 ms
    seen: list[str] = []
    thinker = backend.model.model
    thinker.audio_tower.register_forward_pre_hook(lambda module, args: seen.append("audio"))
    thinker.visual.register_forward_pre_hook(lambda module, args: seen.append("video"))
    [response] = list(backend.generate_until([request]))
    assert response.ok and sorted(seen) == ["audio", "video"]  # each encoder ran once
