"""Video and audio through the `gemini` and `claude` backends against the local server."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from lmms_eval.api.messages import ChatMessages, ContentPart, Message
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.models.api.anthropic_messages import AnthropicMessages
from lmms_eval.models.api.gemini_generate import GeminiGenerate
from lmms_eval.testing.server import OracleServer
from lmms_eval.testing.videos import write_test_video


@pytest.fixture
def clip(tmp_path):
    return write_test_video(tmp_path / "clip.mp4", seconds=2, fps=10)


def _ask_video(clip) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("videos", 0), "What happens?", (str(clip),))


def _gemini(server: OracleServer, **args) -> GeminiGenerate:
    return GeminiGenerate(model="colour-oracle", base_url=server.base_url.removesuffix("/v1") + "/v1beta", use_frame_cache=False, **args)


def _inline(model: GeminiGenerate, request: Request) -> list[dict]:
    [content] = model._payload(request)["contents"]
    return [part["inlineData"] for part in content["parts"] if "inlineData" in part]


def test_gemini_sends_sampled_frames_by_default(clip):
    with OracleServer() as server:
        model = _gemini(server, max_frames_num=5)
        assert [blob["mimeType"] for blob in _inline(model, _ask_video(clip))] == ["image/png"] * 5
        [response] = list(model.generate_until([_ask_video(clip)]))
        assert response.ok
        assert [part["type"] for part in server.bodies[-1]["messages"][-1]["content"]] == ["image_url"] * 5 + ["text"]


def test_gemini_sends_the_whole_video_inline_with_pass_video_url(clip):
    with OracleServer() as server:
        model = _gemini(server, pass_video_url=True)
        [blob] = _inline(model, _ask_video(clip))
        assert blob["mimeType"] == "video/mp4" and base64.b64decode(blob["data"]) == clip.read_bytes()
        [response] = list(model.generate_until([_ask_video(clip)]))
        assert response.ok
        assert [part["type"] for part in server.bodies[-1]["messages"][-1]["content"]] == ["video_url", "text"]


def test_gemini_sends_audio_as_inline_wav():
    audio = {"array": np.zeros(1600, dtype=np.float32), "sampling_rate": 16000}
    messages = ChatMessages((Message("user", (ContentPart("audio", media=audio), ContentPart("text", text="What sound?"))),))
    request = Request(RequestType.GENERATE_UNTIL, Origin("sounds", 0), messages)
    with OracleServer() as server:
        model = _gemini(server)
        [blob] = _inline(model, request)
        data = base64.b64decode(blob["data"])
        assert blob["mimeType"] == "audio/wav" and data[:4] == b"RIFF" and data[8:12] == b"WAVE"
        [response] = list(model.generate_until([request]))
        assert response.ok
        assert [part["type"] for part in server.bodies[-1]["messages"][-1]["content"]] == ["input_audio", "text"]


def test_claude_sends_sampled_frames_and_refuses_whole_videos(clip):
    with OracleServer() as server:
        model = AnthropicMessages(model="colour-oracle", base_url=server.base_url.removesuffix("/v1"), use_frame_cache=False, max_frames_num=4)
        [message] = model._payload(_ask_video(clip))["messages"]
        assert [block["type"] for block in message["content"]] == ["image"] * 4 + ["text"]
        whole = AnthropicMessages(model="colour-oracle", base_url=server.base_url.removesuffix("/v1"), pass_video_url=True)
        with pytest.raises(ValueError, match="no whole videos"):
            whole._payload(_ask_video(clip))
