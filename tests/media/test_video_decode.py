import numpy as np
import pytest

from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import VideoDecodeError, decode_video
from lmms_eval.testing.videos import band_level, write_test_video


def _every_frame(path):
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def mp4(tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=2, fps=10, gop=4)


@pytest.mark.parametrize("count", [1, 3, 8, 20])
def test_frames_equal_a_full_decode_bit_for_bit(mp4, count):
    reference = _every_frame(mp4)
    decoded = decode_video(mp4, VideoSampling(max_frames_num=count))
    assert len(decoded.indices) == count
    assert decoded.indices[0] == 0
    if count > 1:
        assert decoded.indices[-1] == len(reference) - 1
    for index, frame in zip(decoded.indices, decoded.frames):
        assert np.array_equal(frame, reference[index])


def test_same_spec_same_frames(mp4):
    spec = VideoSampling(max_frames_num=6)
    assert np.array_equal(decode_video(mp4, spec).frames, decode_video(mp4, spec).frames)


@pytest.mark.parametrize("name,codec", [("clip.webm", "libvpx-vp9"), ("clip.mkv", "libx264"), ("clip.gif", "gif")])
def test_other_containers(tmp_path, name, codec):
    path = write_test_video(tmp_path / name, seconds=2, fps=10, codec=codec)
    decoded = decode_video(path, VideoSampling(max_frames_num=5))
    assert decoded.indices == (0, 5, 10, 14, 19)
    assert [abs(band_level(f) - (i * 9) % 256) <= 3 for i, f in zip(decoded.indices, decoded.frames)] == [True] * 5


def test_frame_folder_and_time_bounds(tmp_path):
    from PIL import Image

    for i in range(12):
        Image.new("RGB", (16, 12), (i * 20, 0, 0)).save(tmp_path / f"{i:05d}.jpg")
    decoded = decode_video(tmp_path, VideoSampling(max_frames_num=3, start_time=1.0))  # 3 fps -> from frame 3
    assert decoded.indices == (3, 7, 11)


def test_max_pixels_scales_down(mp4):
    decoded = decode_video(mp4, VideoSampling(max_frames_num=2, max_pixels=32 * 24))
    assert decoded.frames.shape == (2, 24, 32, 3)


def test_not_a_video_is_one_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(VideoDecodeError, match="broken.mp4"):
        decode_video(bad, VideoSampling())


def test_sparse_sampling_seeks_and_stays_exact(tmp_path):
    # 80 frames, a keyframe every 4: gaps of ~26 frames take the keyframe-seek path
    clip = write_test_video(tmp_path / "long.mp4", seconds=8, fps=10, gop=4)
    reference = _every_frame(clip)
    decoded = decode_video(clip, VideoSampling(max_frames_num=4))
    assert decoded.indices == (0, 26, 53, 79)
    assert all(np.array_equal(frame, reference[i]) for i, frame in zip(decoded.indices, decoded.frames))


def test_decord_gives_pyavs_frames_bit_for_bit(tmp_path):
    import numpy as np

    from lmms_eval.media.sampling import VideoSampling
    from lmms_eval.media.video import decode_video
    from lmms_eval.testing.videos import write_test_video

    clip = write_test_video(tmp_path / "clip.mp4", seconds=3, fps=10)
    for spec in (VideoSampling(max_frames_num=6), VideoSampling(max_frames_num=6, max_pixels=600), VideoSampling(max_frames_num=32, fps=2.0)):
        pyav = decode_video(clip, spec)
        decord = decode_video(clip, VideoSampling(**{**spec.as_record(), "video_decoder": "decord"}))
        assert decord.indices == pyav.indices and decord.total_frames == pyav.total_frames
        assert decord.frames.shape == pyav.frames.shape and np.array_equal(decord.frames, pyav.frames)


def test_the_decoder_is_part_of_the_spec_only_when_chosen():
    import pytest

    from lmms_eval.errors import ModelError
    from lmms_eval.media.sampling import VideoSampling
    from lmms_eval.models.api.openai_chat import OpenAIChat

    default, chosen = VideoSampling(), VideoSampling(video_decoder="decord")
    assert "video_decoder" not in default.as_record() and chosen.as_record()["video_decoder"] == "decord"
    assert default.digest != chosen.digest  # their frames are cached apart
    assert VideoSampling.from_kwargs({"video_decoder": "decord", "max_frames_num": "4"}) == VideoSampling(max_frames_num=4, video_decoder="decord")
    with pytest.raises(ModelError, match="video_decoder must be one of pyav, decord"):
        OpenAIChat(model="m", base_url="http://127.0.0.1:9/v1", video_decoder="opencv")
