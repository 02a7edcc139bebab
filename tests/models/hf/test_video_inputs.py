"""HF backends take video through the processor's video input, frames from the media layer."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_video_models

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.errors import ModelError
from lmms_eval.media.parts import video_frame_images
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.models.hf.video_inputs import decode_videos
from lmms_eval.models.hf.vlm import HFVisionLanguageModel, Qwen2VL
from lmms_eval.testing.videos import write_test_video

FRAMES = 4


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=2, fps=10)


@pytest.fixture(scope="session")
def qwen3_vl_path(tiny_dir):
    return tiny_video_models.build_qwen3_vl(tiny_dir)


@pytest.fixture(scope="session")
def onevision_path(tiny_dir):
    return tiny_video_models.build_llava_onevision(tiny_dir)


def _ask(clip, doc_id: int = 0) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("videos", doc_id), "What happens?", (str(clip),))


def _record_vision_inputs(backend) -> list[tuple[int, ...]]:
    """A forward hook on the vision encoder: the shapes of the pixels that reached it."""
    inner = backend.model.model
    encoder = getattr(inner, "visual", None) or inner.vision_tower  # Qwen's, LLaVA's
    seen: list[tuple[int, ...]] = []
    encoder.register_forward_pre_hook(lambda module, args, kwargs: seen.append(tuple((args or [kwargs.get("pixel_values", kwargs.get("hidden_states"))])[0].shape)), with_kwargs=True)
    return seen


@pytest.mark.parametrize(
    ("fixture", "backend_class"),
    [("qwen_path", Qwen2VL), ("qwen3_vl_path", Qwen2VL), ("onevision_path", HFVisionLanguageModel)],
    ids=["qwen2_5_vl", "qwen3_vl", "llava_onevision"],
)
def test_sampled_frames_reach_the_video_encoder(fixture, backend_class, clip, request):
    backend = backend_class(pretrained=str(request.getfixturevalue(fixture)), device="cpu", max_frames_num=FRAMES, use_frame_cache=False, max_new_tokens=2)
    inputs = backend.encode([_ask(clip)], padding_side="left")
    assert "pixel_values_videos" in inputs and "pixel_values" not in inputs
    if "video_grid_thw" in inputs:  # Qwen: two frames per temporal patch, nothing resampled
        assert inputs["video_grid_thw"][0][0].item() == FRAMES // 2
    else:  # LLaVA-OneVision: (videos, frames, channels, height, width)
        assert inputs["pixel_values_videos"].shape[1] == FRAMES
    seen = _record_vision_inputs(backend)
    [response] = list(backend.generate_until([_ask(clip)]))
    assert response.ok
    pixels = inputs["pixel_values_videos"]
    expected = tuple(pixels.shape) if "video_grid_thw" in inputs else tuple(pixels.shape[1:])
    assert seen == [expected]  # the video's pixels, once, and no image


def test_frames_equal_the_openai_backends(clip):
    sampling = VideoSampling(max_frames_num=FRAMES)
    decoded = decode_videos(ChatMessages.build("What happens?", [str(clip)]), sampling, cache=None)
    [video_part] = [part for part in decoded.messages.messages[0].content if part.type == "video"]
    as_images = np.stack([np.asarray(image) for image in video_frame_images(str(clip), sampling)])
    assert np.array_equal(video_part.media, as_images)
    [metadata] = decoded.video_metadata
    assert metadata["frames_indices"] == [0, 6, 13, 19] and metadata["total_num_frames"] == 20


def test_batched_videos_each_get_their_metadata(qwen_path, clip):
    backend = Qwen2VL(pretrained=str(qwen_path), device="cpu", max_frames_num=FRAMES, use_frame_cache=False, batch_size=2)
    inputs = backend.encode([_ask(clip, 0), _ask(clip, 1)], padding_side="left")
    assert inputs["video_grid_thw"].shape[0] == 2


def test_bad_sampling_arg_is_a_model_error(qwen_path):
    with pytest.raises(ModelError, match="max_frames_num"):
        Qwen2VL(pretrained=str(qwen_path), device="cpu", max_frames_num=0)


def test_an_undecodable_video_fails_its_own_request_not_its_batch(qwen_path, clip, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    backend = Qwen2VL(pretrained=str(qwen_path), device="cpu", max_frames_num=FRAMES, use_frame_cache=False, batch_size=2, max_new_tokens=2)
    responses = {response.origin.doc_id: response for response in backend.generate_until([_ask(clip, 0), _ask(broken, 1)])}
    assert responses[0].ok
    assert not responses[1].ok and "broken.mp4" in responses[1].failure.message
