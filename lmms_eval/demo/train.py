"""Train the demo model and write it to `lmms_eval/demo/model/`.

    python -m lmms_eval.demo.train [--steps 7000] [--out lmms_eval/demo/model]

Stage 1 teaches the vision tower what each cell shows and freezes it (`pretrain_vision`);
stage 2 trains the projector and the language model on the question stream of
`scenes.training_examples`. Every example is rendered exactly as the `huggingface`
backend renders an evaluation request: one user turn holding the image and then the prompt text, through the
processor's chat template with `add_generation_prompt=True`; the answer follows as the
tokens of `" " + answer` (what a loglikelihood request scores as target_delimiter +
choice) and then `</s>` (where greedy generation must stop). Only the answer tokens are
trained on.

The run is seeded (scenes, questions, initial weights, batch order) and uses one CPU
thread by default, so the same command gives the same model on the same machine. See
docs/demo.md for the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.demo import MODEL_DIR, build, scenes

VALIDATION_SEED = 31337  # neither the training nor the evaluation seed
BUCKET_BATCHES = 8  # examples are sorted by length within this many batches (less padding)


def conversation(scene: scenes.Scene | Any, text: str) -> list[dict[str, Any]]:
    """The conversation the backend builds for a request: images first, then the text."""
    image = scene.image() if isinstance(scene, scenes.Scene) else scene
    return [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text}]}]


def encode(processor: Any, conversations: Sequence[Any], answers: Sequence[str]) -> dict[str, Any]:
    """Model inputs with each answer (and </s>) after its rendered prompt, plus labels
    that are -100 everywhere but on the answer tokens."""
    import torch

    from lmms_eval.models.hf.base import append_continuations

    tokenizer = processor.tokenizer
    tokenizer.padding_side = "right"
    inputs = dict(
        processor.apply_chat_template(
            list(conversations),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"padding": True},
        )
    )
    answer_ids = [tokenizer(" " + answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for answer in answers]
    inputs, lengths = append_continuations(inputs, answer_ids, tokenizer.pad_token_id)
    labels = torch.full_like(inputs["input_ids"], -100)
    for row, (length, tokens) in enumerate(zip(lengths, answer_ids)):
        labels[row, length : length + len(tokens)] = inputs["input_ids"][row, length : length + len(tokens)]
    inputs["labels"] = labels
    return inputs


def answer_loss(model: Any, inputs: dict[str, Any]) -> tuple[Any, Any]:
    """Mean cross-entropy over answer tokens, and per row whether every answer token is
    the argmax (what greedy decoding would produce)."""
    import torch

    labels = inputs["labels"]
    logits = model(**{name: value for name, value in inputs.items() if name != "labels"}).logits
    logits, targets = logits[:, :-1].float(), labels[:, 1:]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    mask = targets != -100
    correct = ((logits.argmax(-1) == targets) | ~mask).all(dim=1)
    return loss, correct


def encoded_batches(processor: Any, seed: int, count: int, batch_size: int) -> list[dict[str, Any]]:
    """`count` batches of the seeded training stream, encoded once: the training loop
    cycles through them (encoding costs a quarter of a step, so it is not redone each
    epoch). Within a window of batches, examples are sorted by prompt length (less
    padding) and the batches are shuffled."""
    rng = random.Random(f"batches:{seed}")
    stream = scenes.training_examples(seed)
    encoded: list[dict[str, Any]] = []
    while len(encoded) < count:
        window = list(itertools.islice(stream, batch_size * BUCKET_BATCHES))
        window.sort(key=lambda example: len(example[1].prompt))
        chunks = [window[start : start + batch_size] for start in range(0, len(window), batch_size)]
        rng.shuffle(chunks)
        for chunk in chunks:
            encoded.append(encode(processor, [conversation(scene, q.prompt) for scene, q in chunk], [q.answer for _, q in chunk]))
    return encoded[:count]


def validation_set(per_task: int = 64) -> list[tuple[str, Any, str, str]]:
    """(task, image, prompt, answer) from scenes of a seed of their own."""
    import io

    from PIL import Image

    examples = []
    for task in scenes.TASK_SIZES:
        for row in scenes.task_rows(task, seed=VALIDATION_SEED, size=per_task):
            image = Image.open(io.BytesIO(row["image"]["bytes"])).convert("RGB")
            examples.append((task, image, scenes.prompt(row["format"], row["question"], row["options"]), row["answer"]))
    return examples


def validate(model: Any, processor: Any, examples: Sequence[tuple[str, Any, str, str]], batch_size: int = 64) -> dict[str, float]:
    """Per task: share of examples whose whole answer is the greedy continuation."""
    import torch

    right: dict[str, list[bool]] = {}
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            inputs = encode(processor, [conversation(image, text) for _, image, text, _ in chunk], [answer for *_, answer in chunk])
            _, correct = answer_loss(model, inputs)
            for (task, *_), ok in zip(chunk, correct.tolist()):
                right.setdefault(task, []).append(ok)
    model.train()
    return {task: sum(values) / len(values) for task, values in right.items()}


def cell_labels(scene: scenes.Scene) -> tuple[list[int], list[int]]:
    """Per cell, row-major: colour index and shape index, with one more class for an
    empty cell."""
    colours = [len(scenes.COLOURS)] * (scenes.GRID * scenes.GRID)
    shapes = [len(scenes.SHAPES)] * (scenes.GRID * scenes.GRID)
    for item in scene.items:
        colours[item.cell] = sorted(scenes.COLOURS).index(item.colour)
        shapes[item.cell] = scenes.SHAPES.index(item.shape)
    return colours, shapes


def pretrain_vision(model: Any, processor: Any, seed: int, steps: int, batch_size: int, lr: float) -> float:
    """Stage 1, what a real LLaVA gets from a pretrained CLIP: the vision tower learns to
    say what each 16-pixel patch (one grid cell) shows, through linear heads on the
    features LLaVA passes on (colour and shape of the cell, and the background); the
    heads are thrown away. Returns the heads' accuracy on fresh scenes."""
    import torch

    tower = model.model.vision_tower
    layer = model.config.vision_feature_layer
    width = tower.config.hidden_size
    heads = torch.nn.ModuleDict(
        {
            "colour": torch.nn.Linear(width, len(scenes.COLOURS) + 1),
            "shape": torch.nn.Linear(width, len(scenes.SHAPES) + 1),
            "background": torch.nn.Linear(width, len(scenes.BACKGROUNDS)),
        }
    )
    optimizer = torch.optim.AdamW([*tower.parameters(), *heads.parameters()], lr=lr, weight_decay=0.0)
    rng = random.Random(f"vision:{seed}")
    held_out = scenes.eval_layouts()

    def draw(count: int) -> tuple[Any, dict[str, Any]]:
        drawn: list[scenes.Scene] = []
        while len(drawn) < count:
            scene = scenes.random_scene(rng)
            if scene.layout not in held_out:
                drawn.append(scene)
        pixels = processor.image_processor([scene.image() for scene in drawn], return_tensors="pt")["pixel_values"]
        labels = [cell_labels(scene) for scene in drawn]
        backgrounds = [sorted(scenes.BACKGROUNDS).index(scene.background) for scene in drawn]
        return pixels, {
            "colour": torch.tensor([colours for colours, _ in labels]),
            "shape": torch.tensor([shapes for _, shapes in labels]),
            "background": torch.tensor(backgrounds)[:, None].expand(-1, scenes.GRID * scenes.GRID),
        }

    def predict(pixels: Any) -> dict[str, Any]:
        features = tower(pixels, output_hidden_states=True).hidden_states[layer][:, 1:]  # as LLaVA's "default"
        return {name: head(features) for name, head in heads.items()}

    tower.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr, steps // 10)
        pixels, labels = draw(batch_size)
        logits = predict(pixels)
        loss = sum(torch.nn.functional.cross_entropy(logits[name].flatten(0, 1), labels[name].flatten()) for name in heads)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    pixels, labels = draw(256)
    with torch.inference_mode():
        logits = predict(pixels)
    right = torch.stack([logits[name].argmax(-1) == labels[name] for name in heads]).all(dim=0)
    return right.float().mean().item()


def learning_rate(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(
    out: Path,
    steps: int,
    batch_size: int,
    lr: float,
    warmup: int,
    seed: int,
    vision_steps: int,
    vision_lr: float,
    pool_batches: int,
    threads: int,
    log_every: int,
    validate_every: int,
    validation_size: int = 64,
) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    started = time.perf_counter()
    tokenizer = build.build_tokenizer()
    processor = build.build_processor(tokenizer)
    model = build.build_model(tokenizer)
    model.train()
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters:,} parameters; vocabulary {len(tokenizer)}", flush=True)
    cell_accuracy = pretrain_vision(model, processor, seed, vision_steps, batch_size, vision_lr)
    print(f"stage 1: vision tower pretrained ({vision_steps} steps), cells read right: {cell_accuracy:.3f}  {time.perf_counter() - started:.0f}s", flush=True)
    # As in LLaVA, the pretrained vision tower stays frozen; projector and LM learn.
    model.model.vision_tower.requires_grad_(False)
    model.model.vision_tower.eval()
    # Weight decay on matrices only, and not on the (tied) token embeddings.
    embeddings = model.get_input_embeddings().weight
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.ndim >= 2 and p is not embeddings]
    no_decay = [p for p in trainable if not (p.ndim >= 2 and p is not embeddings)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98)
    )
    held_out = validation_set(validation_size)
    pool = encoded_batches(processor, seed, min(steps, pool_batches), batch_size)
    print(f"encoded {len(pool)} training batches  {time.perf_counter() - started:.0f}s", flush=True)
    history = []
    running = 0.0
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr, warmup)
        loss, _ = answer_loss(model, pool[step % len(pool)])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running += loss.item()
        if (step + 1) % log_every == 0:
            elapsed = time.perf_counter() - started
            print(f"step {step + 1}/{steps}  loss {running / log_every:.4f}  lr {optimizer.param_groups[0]['lr']:.2e}  {elapsed:.0f}s", flush=True)
            running = 0.0
        if (step + 1) % validate_every == 0 or step + 1 == steps:
            scores = validate(model, processor, held_out)
            history.append({"step": step + 1, "seconds": round(time.perf_counter() - started), **scores})
            print("validation  " + "  ".join(f"{task} {score:.3f}" for task, score in scores.items()), flush=True)
    save(model, processor, out)
    seconds = time.perf_counter() - started
    summary = {
        "parameters": parameters,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "vision_steps": vision_steps,
        "vision_cell_accuracy": round(cell_accuracy, 4),
        "pool_batches": pool_batches,
        "threads": threads,
        "train_seconds": round(seconds),
        "validation": history[-1] if history else {},
    }
    print(json.dumps(summary), flush=True)
    return summary


def save(model: Any, processor: Any, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    model.eval()
    model.save_pretrained(out)
    processor.save_pretrained(out)
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"saved to {out} ({size / 1e6:.2f} MB)", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lmms_eval.demo.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="output folder (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=7000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=150)
    parser.add_argument("--seed", type=int, default=scenes.TRAIN_SEED)
    parser.add_argument("--vision-steps", type=int, default=400, help="stage 1: vision tower pretraining steps")
    parser.add_argument("--vision-lr", type=float, default=2e-3)
    parser.add_argument("--pool-batches", type=int, default=3500, help="distinct training batches (the loop cycles through them)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--validate-every", type=int, default=500)
    args = parser.parse_args(argv)
    train(
        args.out, args.steps, args.batch_size, args.lr, args.warmup, args.seed, args.vision_steps, args.vision_lr, args.pool_batches, args.threads,
        args.log_every, args.validate_every)


if __name__ == "__main__":
    main()
