"""A video task and an audio task written in lmms-eval's format, run through the CLI on
tiny random-weight HF models: the sampled frames and the audio reach the model as its
processor's video and audio inputs, and the scores equal a hand computation over the
answers the model gave (the samples log)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from audio_fixtures import write_audio_parquet
from helpers import write, write_jsonl
from test_qwen2_audio import tiny_qwen2_audio  # noqa: F401 - the fixture

from lmms_eval.cli.main import main
from lmms_eval.testing.videos import write_test_video

FRAMES = 4

VIDEO_TASK = """
task: clips
dataset_path: json
dataset_kwargs:
  data_files:
    test: clips.jsonl
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: "{{ question }}"
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 3
metric_list:
  - metric: exact_match
"""

VIDEO_UTILS = '''
import os


def doc_to_visual(doc):
    return [os.path.join(os.path.dirname(__file__), doc["video"])]
'''

AUDIO_TASK = """
task: sounds
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: sounds.parquet
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_audio
doc_to_text: "What do you hear?"
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 3
metric_list:
  - metric: exact_match
"""

AUDIO_UTILS = '''
def doc_to_audio(doc):
    return [doc["audio"]]
'''


def spy(monkeypatch, cls, name: str) -> list[dict]:
    """Every call's keyword inputs of `cls.name` (the processor's output on its way in)."""
    seen: list[dict] = []
    original = getattr(cls, name)

    def recording(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        seen.append(dict(result) if name == "encode" else kwargs)
        return result

    monkeypatch.setattr(cls, name, recording)
    return seen


def run(task: str, folder, output, model: str, model_args: str) -> tuple[dict, list[dict]]:
    assert main(["--model", model, "--model_args", model_args, "--tasks", task, "--include_path", str(folder),
                 "--output_path", str(output), "--log_samples"]) == 0  # fmt: skip
    [results] = output.glob("*/*_results.json")
    [samples] = output.glob(f"*/*_samples_{task}_*.jsonl")
    return json.loads(results.read_text()), [json.loads(line) for line in samples.read_text().splitlines()]


def hand_exact_match(samples: list[dict], targets: dict[int, str]) -> float:
    return sum(row["resps"][0].strip() == targets[row["doc_id"]] for row in samples) / len(samples)


def test_a_video_task_through_qwen2_5_vl(qwen_path, tmp_path, monkeypatch):
    from lmms_eval.models.hf.vlm import Qwen2VL

    folder = tmp_path / "tasks"
    folder.mkdir()
    for n in range(3):
        write_test_video(folder / f"clip{n}.mp4", seconds=1 + n, fps=10)
    rows = [{"video": f"clip{n}.mp4", "question": f"What happens in clip {n}?", "answer": "nothing"} for n in range(3)]
    write_jsonl(folder / "clips.jsonl", rows)
    write(folder / "clips.yaml", VIDEO_TASK)
    write(folder / "utils.py", VIDEO_UTILS)
    encoded = spy(monkeypatch, Qwen2VL, "encode")

    args = f"pretrained={qwen_path},max_frames_num={FRAMES},use_frame_cache=False"
    results, samples = run("clips", folder, tmp_path / "out", "qwen2_5_vl", args)
    videos = [inputs for inputs in encoded if "pixel_values_videos" in inputs]
    assert videos and all("pixel_values" not in inputs for inputs in videos)
    grids = [tuple(grid.tolist()) for inputs in videos for grid in inputs["video_grid_thw"]]
    assert len(grids) == 3 and all(grid[0] == FRAMES // 2 for grid in grids)  # 4 frames, two per temporal patch
    assert results["media_sampling"]["clips"]["max_frames_num"] == FRAMES
    targets = {n: row["answer"] for n, row in enumerate(rows)}
    assert results["results"]["clips"]["exact_match,none"] == pytest.approx(hand_exact_match(samples, targets))


def test_an_audio_task_through_qwen2_audio(tiny_qwen2_audio, tmp_path, monkeypatch):  # noqa: F811 - the fixture
    import datasets
    import soundfile

    from transformers import Qwen2AudioForConditionalGeneration

    folder = tmp_path / "tasks"
    folder.mkdir()
    clips = []
    for n, seconds in enumerate((0.5, 1.0)):
        t = np.arange(int(8000 * seconds)) / 8000
        path = folder / f"tone{n}.wav"
        soundfile.write(path, np.sin(2 * np.pi * 300 * t).astype(np.float32), 8000)
        clips.append({"audio": {"bytes": path.read_bytes(), "path": None}, "answer": "a tone"})
    features = datasets.Features({"audio": datasets.Audio(), "answer": datasets.Value("string")})
    write_audio_parquet(folder / "sounds.parquet", clips, features)
    write(folder / "sounds.yaml", AUDIO_TASK)
    write(folder / "utils.py", AUDIO_UTILS)
    seen = spy(monkeypatch, Qwen2AudioForConditionalGeneration, "generate")

    results, samples = run("sounds", folder, tmp_path / "out", "qwen2_audio", f"pretrained={tiny_qwen2_audio}")
    masks = sorted(int(mask.sum()) for inputs in seen for mask in inputs["feature_attention_mask"])
    assert masks == [50, 100]  # 0.5 s and 1 s at 8 kHz, resampled to 16 kHz: 100 mel frames a second
    targets = {n: clip["answer"] for n, clip in enumerate(clips)}
    assert results["results"]["sounds"]["exact_match,none"] == pytest.approx(hand_exact_match(samples, targets))
