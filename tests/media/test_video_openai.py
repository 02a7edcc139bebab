"""Video through the `openai` backend against the local oracle server."""

import pytest

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.errors import ModelError
from lmms_eval.models.api.openai_chat import OpenAIChat
from lmms_eval.testing.server import OracleServer
from lmms_eval.testing.videos import write_test_video


def _ask(clip) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("videos", 0), "What happens?", (str(clip),))


def _user_parts(server: OracleServer) -> list[str]:
    return [part["type"] for part in server.bodies[-1]["messages"][-1]["content"]]


@pytest.fixture
def clip(tmp_path):
    return write_test_video(tmp_path / "clip.mp4", seconds=2, fps=10)


def test_frames_by_default_as_many_as_asked(clip, tmp_path, monkeypatch):
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    with OracleServer() as server:
        model = OpenAIChat(model="colour-oracle", base_url=server.base_url, max_frames_num=6)
        [response] = list(model.generate_until([_ask(clip)]))
        assert response.ok
        assert _user_parts(server) == ["image_url"] * 6 + ["text"]
    assert list((tmp_path / "frames").rglob("*.frames"))  # decoded frames were kept for the next run


def test_pass_video_url_sends_the_video(clip):
    with OracleServer() as server:
        model = OpenAIChat(model="colour-oracle", base_url=server.base_url, pass_video_url=True, use_frame_cache=False)
        list(model.generate_until([_ask(clip)]))
        assert _user_parts(server) == ["video_url", "text"]


def test_bad_sampling_arg_is_a_model_error():
    with pytest.raises(ModelError, match="max_frames_num"):
        OpenAIChat(model="m", base_url="http://127.0.0.1:9/v1", max_frames_num=0)
