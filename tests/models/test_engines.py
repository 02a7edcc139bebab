"""The vllm and sglang backends where the engines are not installed, and shared helpers."""

from __future__ import annotations

import importlib.util

import pytest

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.cli.main import main
from lmms_eval.models.common import by_generation_settings, truncate_at_stops, windows
from lmms_eval.models.servers.engines import _sampling


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_a_missing_engine_is_one_line_naming_the_extra(engine, colour_task, capsys):
    if importlib.util.find_spec(engine) is not None:
        pytest.skip(f"{engine} is installed here")
    assert main(["--model", engine, "--model_args", "pretrained=some/model", "--tasks", "colours", "--include_path", str(colour_task)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"lmms-eval: error: the {engine} backend needs the `{engine}` extra: uv sync --extra {engine} --no-dev (or pip install -e '.[{engine}]' in this repository)"
    )


def test_sampling_options():
    assert _sampling({"until": ["\n\n", ""], "max_new_tokens": 7}, 100) == {"max_new_tokens": 7, "temperature": 0.0, "stop": ["\n\n"]}
    assert _sampling({"do_sample": True, "temperature": 0.6, "top_p": 0.9}, 100) == {
        "max_new_tokens": 100, "temperature": 0.6, "stop": [], "top_p": 0.9,
    }


def request(number: int, **gen_kwargs) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("t", number), f"q{number}", gen_kwargs=gen_kwargs)


def test_windows_and_groups():
    requests = [request(n, max_new_tokens=n % 2) for n in range(5)]
    assert [[r.origin.doc_id for r in window] for window in windows(requests, 2)] == [[0, 1], [2, 3], [4]]
    assert [[r.origin.doc_id for r in group] for group in by_generation_settings(requests)] == [[0, 2, 4], [1, 3]]
    assert truncate_at_stops("a\n\nb###c", ["###", "\n\n"]) == "a"


def test_engines_get_videos_as_the_media_layers_frames_or_whole(tmp_path):
    import numpy as np

    from lmms_eval.api.messages import ChatMessages, ContentPart, Message
    from lmms_eval.models.servers.engines import engine_media, vllm_media_limits
    from lmms_eval.testing.videos import write_test_video

    clip = write_test_video(tmp_path / "clip.mp4", seconds=2, fps=10)
    asked = Request(RequestType.GENERATE_UNTIL, Origin("v", 0), "What happens?", (str(clip),))
    frames = engine_media(6, None, None, pass_video_url=False, use_frame_cache=False)
    [message] = frames.messages(asked)
    assert [part.type for part in message.content] == ["image"] * 6 + ["text"]
    whole = engine_media(6, None, None, pass_video_url=True, use_frame_cache=False)
    [kept] = whole.messages(asked)
    assert [part.type for part in kept.content] == ["video", "text"]

    audio = {"array": np.zeros(800, dtype=np.float32), "sampling_rate": 16000}
    spoken = ChatMessages((Message("user", (ContentPart("audio", media=audio), ContentPart("text", text="Say?"))),))
    inputs = whole.sglang_inputs(whole.messages(asked)) | {"audio_data": whole.sglang_inputs(spoken)["audio_data"]}
    assert inputs["video_data"] == [str(clip)] and inputs["image_data"] == [] and len(inputs["audio_data"]) == 1
    assert vllm_media_limits(frames, 16, 0) == {"image": 16}
    assert vllm_media_limits(engine_media(32, None, None, True, False), 16, 2) == {"image": 32, "video": 1, "audio": 2}
