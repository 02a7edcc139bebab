import pytest

from lmms_eval.media.sampling import VideoSampling


def test_uniform_with_endpoints():
    assert VideoSampling(max_frames_num=5).frame_indices(101, 25.0) == [0, 25, 50, 75, 100]
    assert VideoSampling(max_frames_num=2).frame_indices(60, 30.0) == [0, 59]


def test_short_clip_gives_every_frame_once():
    assert VideoSampling(max_frames_num=10).frame_indices(4, 30.0) == [0, 1, 2, 3]
    assert VideoSampling(max_frames_num=1).frame_indices(4, 30.0) == [0]


def test_fps_caps_count_and_max_frames_caps_fps():
    # 4 s at 25 fps; 1 fps -> 4 frames; cap 3 -> 3 frames
    assert len(VideoSampling(max_frames_num=64, fps=1).frame_indices(100, 25.0)) == 4
    assert len(VideoSampling(max_frames_num=3, fps=1).frame_indices(100, 25.0)) == 3


def test_start_end_bounds():
    spec = VideoSampling(max_frames_num=3, start_time=1.0, end_time=2.0)
    assert spec.frame_indices(100, 25.0) == [25, 38, 50]


def test_from_kwargs_later_wins_and_types_strings():
    spec = VideoSampling.from_kwargs({"max_frames_num": "32", "temperature": 0}, {"fps": "2"}, {"max_frames_num": 8})
    assert spec == VideoSampling(max_frames_num=8, fps=2.0)
    assert spec.as_record() == {"max_frames_num": 8, "fps": 2.0}


def test_bad_values_name_the_key():
    with pytest.raises(ValueError, match="max_frames_num"):
        VideoSampling.from_kwargs({"max_frames_num": "many"})
    with pytest.raises(ValueError, match="max_frames_num"):
        VideoSampling(max_frames_num=0)
