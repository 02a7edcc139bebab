"""A frame folder (MVBench's TVQA parts) is a video input end to end: digested, cached, sent."""

from PIL import Image

from lmms_eval.api.media import media_digest
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.media.frame_cache import FrameCache, load_frames
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.models.api.openai_chat import OpenAIChat
from lmms_eval.testing.server import OracleServer


def _frame_folder(folder, levels):
    folder.mkdir(parents=True)
    for i, level in enumerate(levels):
        Image.new("RGB", (8, 6), (level, level, level)).save(folder / f"{i + 1:05d}.jpg")
    return folder


def test_a_folder_digest_follows_its_frames_not_its_path(tmp_path):
    first = _frame_folder(tmp_path / "a", [10, 20, 30])
    copy = _frame_folder(tmp_path / "b", [10, 20, 30])
    other = _frame_folder(tmp_path / "c", [10, 20, 200])
    assert media_digest(str(first)) == media_digest(str(copy))
    assert media_digest(str(first)) != media_digest(str(other))
    assert media_digest(str(first)) != media_digest(str(first / "00001.jpg"))


def test_frame_folder_frames_are_cached(tmp_path):
    folder = _frame_folder(tmp_path / "clip", [0, 50, 100, 150, 200])
    cache = FrameCache(tmp_path / "frames")
    sampling = VideoSampling(max_frames_num=3)
    decoded = load_frames(str(folder), sampling, cache)
    assert decoded.indices == (0, 2, 4)
    assert cache.get(str(folder), sampling) is not None


def test_a_frame_folder_request_reaches_the_server_as_frames(tmp_path):
    folder = _frame_folder(tmp_path / "clip", [0, 60, 120, 180])
    request = Request(RequestType.GENERATE_UNTIL, Origin("videos", 0), "What happens?", (str(folder),))
    with OracleServer() as server:
        model = OpenAIChat(model="m", base_url=server.base_url, max_frames_num=4, use_frame_cache=False)
        [response] = list(model.generate_until([request]))
        assert response.ok
        parts = [part["type"] for part in server.bodies[-1]["messages"][-1]["content"]]
    assert parts == ["image_url"] * 4 + ["text"]
