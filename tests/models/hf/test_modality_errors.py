"""HF backends say which media they take: a task they cannot take fails before any request."""

from __future__ import annotations

from lmms_eval.cli.main import main
from lmms_eval.models.hf.vlm import HFVisionLanguageModel, Qwen2VL


def test_processor_parts_decide_what_a_vision_model_takes(qwen_path, idefics3_path):
    qwen = Qwen2VL(pretrained=str(qwen_path), device="cpu")
    assert [qwen.accepts(kind) for kind in ("image", "video", "audio")] == [True, True, False]
    idefics3 = HFVisionLanguageModel(pretrained=str(idefics3_path), device="cpu")  # its processor has no video processor
    assert [idefics3.accepts(kind) for kind in ("image", "video")] == [True, False]


def test_text_model_on_an_image_task_is_one_line_exit_2(text_lm_path, capsys):
    code = main(["--model", "hf", "--model_args", f"pretrained={text_lm_path},device=cpu", "--tasks", "demo_colours", "--limit", "2"])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == f"lmms-eval: error: task demo_colours sends image, which model 'hf' ({text_lm_path}) cannot take"
