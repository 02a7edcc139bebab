import shutil
import threading

import numpy as np
import pytest

from lmms_eval.media import frame_cache as frame_cache_module
from lmms_eval.media.frame_cache import FrameCache, load_frames
from lmms_eval.media.prefetch import prefetch, prefetch_videos
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import VideoDecodeError
from lmms_eval.testing.videos import write_test_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=2, fps=10)


def test_second_read_decodes_nothing_and_matches(clip, tmp_path, monkeypatch):
    cache = FrameCache(tmp_path / "frames")
    spec = VideoSampling(max_frames_num=4)
    first = load_frames(clip, spec, cache)
    monkeypatch.setattr(frame_cache_module, "decode_video", lambda *a: pytest.fail("decoded again"))
    second = load_frames(clip, spec, cache)
    assert np.array_equal(first.frames, second.frames) and first.indices == second.indices
    # keyed by content: a copy elsewhere hits too; another spec does not
    copy = shutil.copy(clip, tmp_path / "copy.mp4")
    assert cache.get(copy, spec) is not None
    assert cache.get(clip, VideoSampling(max_frames_num=5)) is None


def test_corrupt_entry_is_decoded_again(clip, tmp_path):
    cache = FrameCache(tmp_path)
    spec = VideoSampling(max_frames_num=2)
    load_frames(clip, spec, cache)
    cache.entry_path(clip, spec).write_bytes(b"garbage")
    assert load_frames(clip, spec, cache).frames.shape[0] == 2


def test_truncated_entry_is_decoded_again(clip, tmp_path):
    cache = FrameCache(tmp_path)
    spec = VideoSampling(max_frames_num=3)
    first = load_frames(clip, spec, cache)
    entry = cache.entry_path(clip, spec)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # a half-written file (a copy cut short)
    assert cache.get(clip, spec) is None
    again = load_frames(clip, spec, cache)
    assert again.indices == first.indices and (again.frames == first.frames).all()
    assert cache.get(clip, spec) is not None  # rewritten whole


def test_prefetch_keeps_order_and_bounds_depth():
    in_flight, peak, lock = [0], [0], threading.Lock()

    def load(item):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        return item * 10

    results = []
    for item, value in prefetch(range(20), load, workers=3, depth=4):
        with lock:
            in_flight[0] -= 1
        results.append((item, value))
    assert results == [(i, i * 10) for i in range(20)]
    assert peak[0] <= 4 + 1  # depth waiting plus the one being consumed


def test_prefetch_videos_raises_at_the_bad_item(clip, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"x")
    seen = []
    with pytest.raises(VideoDecodeError):
        for path, decoded in prefetch_videos([str(clip), str(bad)], VideoSampling(max_frames_num=2), workers=2):
            seen.append(path)
    assert seen == [str(clip)]
