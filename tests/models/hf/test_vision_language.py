"""The `huggingface` backend (and its named families) on tiny random-weight models."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from lmms_eval.api.messages import ChatMessages, ContentPart, Message, to_hf
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.errors import ModelError
from lmms_eval.models import MODELS

FAMILIES = [("qwen2_5_vl", "qwen_path"), ("llava_hf", "llava_path"), ("idefics3", "idefics3_path")]


def image(number: int) -> Image.Image:
    return Image.new("RGB", (40 + 8 * number, 40), ((number * 70) % 255, (30 * number) % 255, 200))


def generate_request(number: int, **gen_kwargs) -> Request:
    messages = ChatMessages.build("What colour is" + " this" * number + "?", [image(number)])
    return Request(RequestType.GENERATE_UNTIL, Origin("t", number), messages, gen_kwargs={"max_new_tokens": 6, **gen_kwargs})


def load(name: str, path, **args):
    return MODELS.get(name).create({"pretrained": str(path), **args}, batch_size=args.pop("batch_size", 1))


@pytest.mark.parametrize(("name", "fixture"), FAMILIES)
def test_images_reach_the_model(name, fixture, request):
    model = load(name, request.getfixturevalue(fixture))
    with_image = model.encode([generate_request(1)], padding_side="left")
    image_token = model.model.config.image_token_id
    assert (with_image["input_ids"] == image_token).sum() > 0
    assert with_image["pixel_values"].numel() > 0
    text_only = Request(RequestType.GENERATE_UNTIL, Origin("t", 9), ChatMessages.build("Just text."))
    assert (model.encode([text_only], padding_side="left")["input_ids"] == image_token).sum() == 0


@pytest.mark.parametrize(("name", "fixture"), FAMILIES)
def test_batched_generation_equals_unbatched(name, fixture, request):
    path = request.getfixturevalue(fixture)
    requests = [generate_request(number) for number in range(6)]
    one = {r.origin.doc_id: r.text for r in load(name, path).generate_until(requests)}
    eight = {r.origin.doc_id: r.text for r in load(name, path, batch_size=8).generate_until(requests)}
    assert one == eight
    assert len(set(one.values())) > 1  # the tiny model's answers depend on the input


def direct_loglikelihood(model, request: Request) -> float:
    """log P(continuation | context) computed by hand with transformers, one request alone."""
    inputs = model.processor.apply_chat_template([to_hf(request.context)], add_generation_prompt=True, tokenize=True,
                                                 return_dict=True, return_tensors="pt")
    continuation = model.tokenizer(request.continuation, add_special_tokens=False)["input_ids"]
    context_length = inputs["input_ids"].shape[1]
    inputs = dict(inputs)
    extra = torch.tensor([continuation])
    for name in ("input_ids", "attention_mask", "mm_token_type_ids"):
        if name in inputs:
            addition = extra if name == "input_ids" else (torch.ones_like(extra) if name == "attention_mask" else torch.zeros_like(extra))
            inputs[name] = torch.cat([inputs[name], addition], dim=1)
    with torch.no_grad():
        logits = model.model(**inputs).logits[0].float()
    logprobs = torch.log_softmax(logits[context_length - 1 : -1], dim=-1)
    return sum(logprobs[i, token].item() for i, token in enumerate(continuation))


@pytest.mark.parametrize(("name", "fixture"), FAMILIES)
def test_loglikelihood_matches_a_direct_computation(name, fixture, request):
    model = load(name, request.getfixturevalue(fixture), batch_size=3)
    requests = [
        Request(RequestType.LOGLIKELIHOOD, Origin("t", number), ChatMessages.build("Colour" + "?" * number, [image(number)]), continuation=choice)
        for number, choice in enumerate([" red", " blue square", " a green tree"])
    ]
    answers = {r.origin.doc_id: r.loglikelihood for r in model.loglikelihood(requests)}
    for number, asked in enumerate(requests):
        assert answers[number].logprob == pytest.approx(direct_loglikelihood(model, asked), abs=1e-3)


def test_interleaved_images_keep_the_task_order(qwen_path):
    model = load("qwen2_5_vl", qwen_path)
    messages = ChatMessages((Message("user", (ContentPart("text", text="First"), ContentPart.of_media(image(1)),
                                               ContentPart("text", text="then"), ContentPart.of_media(image(2)))),))
    text = model.processor.apply_chat_template(to_hf(messages), add_generation_prompt=True, tokenize=False)
    assert text.index("First") < text.index("<|vision_start|>") < text.index("then") < text.rindex("<|vision_start|>")
    inputs = model.encode([Request(RequestType.GENERATE_UNTIL, Origin("t", 0), messages)], padding_side="left")
    assert inputs["image_grid_thw"].shape[0] == 2


def test_stop_strings_and_greedy_defaults(qwen_path):
    model = load("qwen2_5_vl", qwen_path)
    options = model.generation_options({"until": ["\n\n", ""], "temperature": 0, "max_new_tokens": 3})
    assert options["do_sample"] is False and options["max_new_tokens"] == 3 and options["stop_strings"] == ["\n\n"]
    assert model.generation_options({"do_sample": True, "temperature": 0.7, "top_p": 0.9})["temperature"] == 0.7


def test_close_releases_the_weights(qwen_path):
    model = load("qwen2_5_vl", qwen_path)
    model.close()
    assert model.model is None


def test_unloadable_model_is_one_clear_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load"):
        load("huggingface", tmp_path / "nothing-here")
    with pytest.raises(ModelError, match="pretrained="):
        MODELS.get("huggingface").create({})
