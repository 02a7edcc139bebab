"""Videos are decoded a few requests ahead of the backend, bounded by the prefetch depth."""

from __future__ import annotations

import pytest

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, Response
from lmms_eval.engine.inference import run_inference
from lmms_eval.media.frame_cache import DECODED_AHEAD, load_frames
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import decode_video
from lmms_eval.testing.videos import write_test_video


class FrameCounter(Model):
    """Answers with the number of frames it finds for each video, noting what waited decoded."""

    def __init__(self, sampling: VideoSampling | None) -> None:
        super().__init__()
        self.video_sampling = sampling
        self.waiting: list[int] = []  # decoded-ahead entries when each request arrived
        self.found_ahead: list[bool] = []

    def generate_until(self, requests):
        for request in requests:
            self.waiting.append(len(DECODED_AHEAD))
            [video] = request.visuals
            self.found_ahead.append(DECODED_AHEAD.take(video, self.video_sampling) is not None if self.video_sampling else False)
            yield Response.generated(request, "ok")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return [str(write_test_video(folder / f"clip{i}.mp4", seconds=1, fps=5)) for i in range(6)]


def _requests(clips) -> list[Request]:
    return [Request(RequestType.GENERATE_UNTIL, Origin("clips", i), "What happens?", (clip,)) for i, clip in enumerate(clips)]


def test_every_video_is_decoded_before_the_backend_asks_and_memory_stays_bounded(clips, monkeypatch):
    monkeypatch.setenv("LMMS_EVAL_DECODE_WORKERS", "1")  # depth 2
    model = FrameCounter(VideoSampling(max_frames_num=3))
    answered = run_inference(model, RequestType.GENERATE_UNTIL, _requests(clips))
    assert len(answered.responses) == len(clips) and not answered.failures
    assert model.found_ahead == [True] * len(clips)
    assert max(model.waiting) <= 2
    assert len(DECODED_AHEAD) == 0


def test_frames_handed_over_equal_a_fresh_decode(clips):
    sampling = VideoSampling(max_frames_num=4)
    DECODED_AHEAD.put(clips[0], sampling, decode_video(clips[0], sampling))
    handed = load_frames(clips[0], sampling)
    assert (handed.frames == decode_video(clips[0], sampling).frames).all()
    assert DECODED_AHEAD.take(clips[0], sampling) is None  # handed over once


def test_backends_that_sample_no_video_get_the_stream_untouched(clips):
    model = FrameCounter(None)
    run_inference(model, RequestType.GENERATE_UNTIL, _requests(clips))
    assert model.waiting == [0] * len(clips)


def test_questions_on_one_video_each_find_its_frames(clips, monkeypatch):
    monkeypatch.setenv("LMMS_EVAL_DECODE_WORKERS", "2")
    model = FrameCounter(VideoSampling(max_frames_num=3))
    same_clip = [Request(RequestType.GENERATE_UNTIL, Origin("clips", i), f"Question {i}?", (clips[0],)) for i in range(3)]
    run_inference(model, RequestType.GENERATE_UNTIL, same_clip)
    assert model.found_ahead == [True, True, True]
    assert len(DECODED_AHEAD) == 0


class OrderRecorder(FrameCounter):
    """Notes the order requests arrive in; a request without a video is answered as it is."""

    def __init__(self, sampling: VideoSampling | None) -> None:
        super().__init__(sampling)
        self.order: list[int] = []

    def generate_until(self, requests):
        for request in requests:
            self.order.append(request.origin.doc_id)
            if request.visuals:
                self.found_ahead.append(DECODED_AHEAD.take(request.visuals[0], self.video_sampling) is not None)
            yield Response.generated(request, "ok")


def test_requests_without_video_pass_in_order_and_later_videos_are_still_decoded_ahead(clips, monkeypatch):
    monkeypatch.setenv("LMMS_EVAL_DECODE_WORKERS", "1")
    model = OrderRecorder(VideoSampling(max_frames_num=3))
    text_only = [Request(RequestType.GENERATE_UNTIL, Origin("mixed", i), f"Question {i}?") for i in range(3)]
    with_video = [Request(RequestType.GENERATE_UNTIL, Origin("mixed", 3 + i), "What happens?", (clip,)) for i, clip in enumerate(clips[:2])]
    stream = [text_only[0], text_only[1], with_video[0], text_only[2], with_video[1]]
    run_inference(model, RequestType.GENERATE_UNTIL, stream)
    assert model.order == [request.origin.doc_id for request in stream]
    assert model.found_ahead == [True, True]
    assert len(DECODED_AHEAD) == 0


class FailsBeforeEncoding(FrameCounter):
    """Fails every other request without reading its frames, as a backend whose request
    failed before it was encoded (or was given up unsent) does."""

    def generate_until(self, requests):
        for request in requests:
            if request.origin.doc_id % 2:
                yield Response.failed(request, FailureKind.CONNECTION, "not sent", attempts=0)
                continue
            DECODED_AHEAD.take(request.visuals[0], self.video_sampling)
            yield Response.generated(request, "ok")


def test_frames_of_requests_never_encoded_are_dropped_when_the_task_is_answered(clips):
    model = FailsBeforeEncoding(VideoSampling(max_frames_num=3))
    answered = run_inference(model, RequestType.GENERATE_UNTIL, _requests(clips))
    assert len(answered.failures) == len(clips) // 2
    assert len(DECODED_AHEAD) == 0  # the failed requests' frames are not kept for the rest of the run
