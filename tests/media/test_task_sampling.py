"""One sampling spec per task: model_args, then the task's lmms_eval_specific_kwargs on top,
used for every video of the task and recorded in the results JSON under lmms-eval's names."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import write, write_jsonl

from lmms_eval.cli.main import main
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.testing.server import OracleServer
from lmms_eval.testing.videos import write_test_video

TASK = """
task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
doc_to_visual: video
doc_to_text: question
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 4
metric_list:
  - metric: exact_match
{extra}
"""
PER_MODEL = """
lmms_eval_specific_kwargs:
  default:
    max_frames_num: 3
  openai:
    max_frames_num: 5
    fps: 4
"""


def test_task_keys_win_over_model_args():
    spec = VideoSampling(max_frames_num=8, max_pixels=4096).for_task({"max_frames_num": "16", "pre_prompt": "Q:"})
    assert spec.as_record() == {"max_frames_num": 16, "max_pixels": 4096}
    assert VideoSampling(max_frames_num=8).for_task(None) == VideoSampling(max_frames_num=8)


def _task_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    clip = write_test_video(tmp_path / "clip.mp4", seconds=2, fps=10)
    write_jsonl(folder / "docs.jsonl", [{"video": str(clip), "question": "What colour?", "answer": "red"}])
    write(folder / "clips_tuned.yaml", TASK.format(name="clips_tuned", data=folder / "docs.jsonl", extra=PER_MODEL))
    write(folder / "clips_plain.yaml", TASK.format(name="clips_plain", data=folder / "docs.jsonl", extra=""))
    return folder


def test_each_task_samples_with_its_own_spec_and_records_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    folder, output = _task_folder(tmp_path), tmp_path / "out"
    with OracleServer() as server:
        args = f"base_url={server.base_url},model=colour-oracle,max_frames_num=2"
        code = main(["--model", "openai", "--model_args", args, "--tasks", "clips_tuned,clips_plain", "--include_path", str(folder), "--output_path", str(output)])
        frames_sent = sorted(sum(part["type"] == "image_url" for part in body["messages"][-1]["content"]) for body in server.bodies)
    assert code == 0
    assert frames_sent == [2, 5]  # the plain task keeps model_args' spec; the tuned one its openai entry (5 frames; 4 fps over 2 s allows 8)
    [results_file] = output.rglob("*_results.json")
    assert json.loads(results_file.read_text())["media_sampling"] == {
        "clips_tuned": {"max_frames_num": 5, "fps": 4.0},
        "clips_plain": {"max_frames_num": 2},
    }


def test_engine_backends_take_the_task_spec_too():
    from lmms_eval.models.servers.engines import VLLMModel, engine_media

    model = VLLMModel.__new__(VLLMModel)  # vLLM is not installed here: only the media part is built
    model.media = engine_media(8, None, None, pass_video_url=False, use_frame_cache=False)
    assert model.use_task_kwargs({"max_frames_num": 3}).max_frames_num == 3
    assert model.media.sampling == VideoSampling(max_frames_num=3) and model.wants_frames()
    assert model.use_task_kwargs(None) == VideoSampling(max_frames_num=8)  # the next task starts from model_args
