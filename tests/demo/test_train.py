"""The demo model's training script: seeded, so the same command gives the same weights,
and what it writes loads like a Hub model."""

from __future__ import annotations

import hashlib

from lmms_eval.demo import scenes, train


def tiny_run(out):
    return train.train(
        out, steps=3, batch_size=4, lr=2e-3, warmup=1, seed=scenes.TRAIN_SEED, vision_steps=2, vision_lr=2e-3,
        pool_batches=2, threads=1, log_every=1, validate_every=3, validation_size=4,
    )  # fmt: skip


def digest(folder) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def test_training_is_reproducible_and_loads_with_from_pretrained(tmp_path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    first = tiny_run(tmp_path / "a")
    tiny_run(tmp_path / "b")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert set(first["validation"]) >= {"step", *scenes.TASK_SIZES}
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "a")
    processor = AutoProcessor.from_pretrained(tmp_path / "a")
    assert type(model).__name__ == "LlavaForConditionalGeneration"
    assert processor.tokenizer.convert_tokens_to_ids("<image>") == model.config.image_token_id


def test_training_prompts_render_like_evaluation_requests():
    """The training text is the backend's: one user turn, the image then the prompt, and
    the generation prompt; the answer follows as " answer</s>"."""
    from lmms_eval.demo import build

    processor = build.build_processor(build.build_tokenizer())
    scene, question = next(iter(scenes.training_examples()))
    inputs = train.encode(processor, [train.conversation(scene, question.prompt)], [question.answer])
    tokens = processor.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    text = processor.tokenizer.decode(inputs["input_ids"][0])
    assert tokens.count("<image>") == (scenes.SIZE // build.PATCH) ** 2
    assert text.endswith(f"{question.prompt}\nASSISTANT: {question.answer}</s>")
    answer_ids = processor.tokenizer(" " + question.answer, add_special_tokens=False)["input_ids"]
    assert inputs["labels"][0][inputs["labels"][0] != -100].tolist() == [*answer_ids, processor.tokenizer.eos_token_id]
