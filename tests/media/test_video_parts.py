import base64

import numpy as np

from lmms_eval.api.messages import ChatMessages, to_openai
from lmms_eval.media.parts import frames_as_images, openai_video_part
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import decode_video
from lmms_eval.testing.videos import write_test_video


def test_video_becomes_sampled_frames_in_the_same_user_message(tmp_path):
    clip = write_test_video(tmp_path / "clip.mp4", seconds=2, fps=10)
    messages = ChatMessages.build("What happens?", [str(clip)], system="Be brief.")
    expanded = frames_as_images(messages, VideoSampling(max_frames_num=4))
    user = expanded.messages[-1]
    assert [part.type for part in user.content] == ["image"] * 4 + ["text"]
    expected = decode_video(clip, VideoSampling(max_frames_num=4)).frames
    assert all(np.array_equal(np.asarray(part.media), frame) for part, frame in zip(user.content, expected))
    body = to_openai(expanded)
    assert [part["type"] for part in body[-1]["content"]] == ["image_url"] * 4 + ["text"]


def test_video_url_part_carries_the_file(tmp_path):
    clip = write_test_video(tmp_path / "clip.mp4", seconds=1, fps=5)
    part = openai_video_part(clip)
    prefix, encoded = part["video_url"]["url"].split(",", 1)
    assert part["type"] == "video_url" and prefix == "data:video/mp4;base64"
    assert base64.b64decode(encoded) == clip.read_bytes()
