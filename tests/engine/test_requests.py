"""Stage 3: which docs a process evaluates, and the requests each doc becomes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import png_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from lmms_eval.api.messages import ContentPart, Message
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.engine.requests import DocWindow, RequestBuilder, UnbuiltDoc, iter_requests
from lmms_eval.errors import DocumentError
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.task import PromptSettings, Task
from lmms_eval.taskdefs.yaml_io import read_yaml

ROWS = [
    {"q": "Sky?", "a": "blue", "rgb": [30, 60, 220], "choices": ["red", "blue", "green"], "gold": 1},
    {"q": "Grass?", "a": "green", "rgb": [30, 160, 60], "choices": ["green", "yellow"], "gold": 0},
    {"q": "Blood?", "a": "red", "rgb": [220, 30, 30], "choices": ["purple", "red", "black"], "gold": 1},
]
TRAIN = [
    {"q": "Snow?", "a": "white", "rgb": [245, 245, 245], "choices": ["white", "black"], "gold": 0},
    {"q": "Coal?", "a": "black", "rgb": [10, 10, 10], "choices": ["orange", "black"], "gold": 1},
]
FIRST_N = {"sampler": "first_n"}


def build(task: Task, chat: bool, doc_id: int = 0):
    return RequestBuilder(task, chat).requests_for(doc_id, task.eval_docs()[doc_id])


def pixels(image: Image.Image) -> tuple:
    return image.getpixel((0, 0))


def text_part(text: str) -> ContentPart:
    return ContentPart("text", text=text)


# --- DocWindow ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window, total, expected",
    [
        (DocWindow(), 5, [0, 1, 2, 3, 4]),
        (DocWindow(), 0, []),
        (DocWindow(offset=2), 5, [2, 3, 4]),
        (DocWindow(offset=5), 5, []),
        (DocWindow(offset=9), 5, []),
        (DocWindow(limit=3), 5, [0, 1, 2]),
        (DocWindow(limit=3.0), 5, [0, 1, 2]),
        (DocWindow(limit=2.7), 5, [0, 1]),  # an int limit truncates
        (DocWindow(limit=1), 5, [0]),
        (DocWindow(limit=50), 5, [0, 1, 2, 3, 4]),
        (DocWindow(offset=3, limit=3), 5, [3, 4]),
        (DocWindow(offset=1, limit=2), 5, [1, 2]),
        (DocWindow(limit=0.5), 5, [0, 1, 2]),  # ceil(2.5)
        (DocWindow(limit=0.1), 5, [0]),  # ceil(0.5)
        (DocWindow(limit=0.2), 10, [0, 1]),
        (DocWindow(offset=2, limit=0.5), 10, [2, 3, 4, 5]),  # half of the 8 docs after the offset
        (DocWindow(rank=1, world_size=2), 5, [1, 3]),
        (DocWindow(rank=0, world_size=2), 5, [0, 2, 4]),
        (DocWindow(rank=2, world_size=3), 7, [2, 5]),
        (DocWindow(offset=1, limit=5, rank=1, world_size=2), 10, [2, 4]),
        (DocWindow(rank=3, world_size=4), 2, []),
    ],
)
def test_doc_ids(window, total, expected):
    assert window.doc_ids(total) == expected


@pytest.mark.parametrize("total", [0, 1, 2, 7, 10, 13])
@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("offset, limit", [(0, None), (1, None), (2, 6), (0, 0.5)])
def test_rank_shards_cover_every_doc_exactly_once(total, world_size, offset, limit):
    window = DocWindow(offset=offset, limit=limit).doc_ids(total)
    shards = [DocWindow(offset, limit, rank, world_size).doc_ids(total) for rank in range(world_size)]
    flat = [doc_id for shard in shards for doc_id in shard]
    assert sorted(flat) == window
    assert len(flat) == len(set(flat))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1  # uneven by one doc at most


# --- requests per output type -----------------------------------------------------------


def test_generate_until_simple_context(make_task):
    task = make_task(ROWS, doc_to_visual="!function doc_to_visual", generation_kwargs={"max_new_tokens": 8})
    [request] = build(task, chat=False)
    assert request.type is RequestType.GENERATE_UNTIL
    assert request.origin == Origin("colours", 0, 0)
    assert request.context == "Sky?" and request.prompt == "Sky?"
    assert [pixels(image) for image in request.visuals] == [(30, 60, 220)]
    assert dict(request.gen_kwargs) == {"max_new_tokens": 8, "until": ["\n\n"]}
    assert request.continuation is None
    assert request.task_hash == task.config.prompt_hash()


def test_generate_until_default_gen_kwargs(make_task):
    [request] = build(make_task(ROWS), chat=False, doc_id=2)
    assert dict(request.gen_kwargs) == {"until": ["\n\n"], "do_sample": False}
    assert (request.context, request.visuals, request.origin) == ("Blood?", (), Origin("colours", 2, 0))


def test_generate_until_chat_context(make_task):
    task = make_task(ROWS, doc_to_visual="!function doc_to_visual")
    [request] = build(task, chat=True, doc_id=1)
    assert request.visuals == ()
    [message] = request.context.messages
    image, text = message.content
    assert message.role == "user"
    assert image.type == "image" and pixels(image.media) == (30, 160, 60)
    assert text == text_part("Grass?")


def test_repeats_give_one_request_per_answer(make_task):
    task = make_task(ROWS, repeats=3)
    requests = build(task, chat=False)
    assert [request.origin for request in requests] == [Origin("colours", 0, index) for index in range(3)]
    assert len({request.key for request in requests}) == 3
    assert {request.context for request in requests} == {"Sky?"}


def test_loglikelihood_continuation_is_delimiter_plus_target(make_task):
    [request] = build(make_task(ROWS, output_type="loglikelihood"), chat=False)
    assert request.type is RequestType.LOGLIKELIHOOD
    assert (request.context, request.continuation) == ("Sky?", " blue")
    assert dict(request.gen_kwargs) == {}
    [custom] = build(make_task(ROWS, output_type="loglikelihood", target_delimiter=": "), chat=False, doc_id=1)
    assert custom.continuation == ": green"


def test_multiple_choice_asks_once_per_choice(make_task):
    task = make_task(ROWS, output_type="multiple_choice", doc_to_choice="choices", doc_to_target="gold")
    requests = build(task, chat=False, doc_id=2)
    assert [request.continuation for request in requests] == [" purple", " red", " black"]
    assert [request.origin for request in requests] == [Origin("colours", 2, index) for index in range(3)]
    assert {request.type for request in requests} == {RequestType.LOGLIKELIHOOD}
    assert {request.context for request in requests} == {"Blood?"}


def test_iter_requests_follows_the_doc_ids(make_task):
    task = make_task(ROWS, output_type="multiple_choice", doc_to_choice="choices", doc_to_target="gold")
    requests = list(iter_requests(RequestBuilder(task, chat=False), task.eval_docs(), [2, 0]))
    assert [(request.origin.doc_id, request.origin.index) for request in requests] == [(2, 0), (2, 1), (2, 2), (0, 0), (0, 1), (0, 2)]


# --- prompts ---------------------------------------------------------------------------


def test_few_shot_text_layout(make_task):
    task = make_task(ROWS, train=TRAIN, num_fewshot=2, fewshot_config=FIRST_N, description="Name colours.\n")
    [request] = build(task, chat=False)
    assert request.context == "Name colours.\nSnow? white\n\nCoal? black\n\nSky?"


def test_few_shot_custom_delimiters(make_task):
    task = make_task(
        ROWS, train=TRAIN, num_fewshot=2, fewshot_config=FIRST_N, target_delimiter="=", fewshot_delimiter=" | "
    )
    assert build(task, chat=False, doc_id=1)[0].context == "Snow?=white | Coal?=black | Grass?"


def test_few_shot_loglikelihood_layout(make_task):
    task = make_task(ROWS, train=TRAIN, num_fewshot=1, fewshot_config=FIRST_N, output_type="loglikelihood")
    [request] = build(task, chat=False)
    assert (request.context, request.continuation) == ("Snow? white\n\nSky?", " blue")


def test_few_shot_multiple_choice_examples_show_the_gold_choice_text(make_task):
    task = make_task(
        ROWS, train=TRAIN, num_fewshot=2, fewshot_config=FIRST_N, output_type="multiple_choice", doc_to_choice="choices", doc_to_target="gold"
    )
    assert build(task, chat=False)[0].context == "Snow? white\n\nCoal? black\n\nSky?"


def test_num_fewshot_from_settings_overrides_the_yaml(make_task):
    task = make_task(ROWS, train=TRAIN, num_fewshot=2, fewshot_config=FIRST_N, settings=PromptSettings(num_fewshot=1))
    assert build(task, chat=False)[0].context == "Snow? white\n\nSky?"


def test_default_sampler_is_seeded_by_doc(make_task):
    settings = PromptSettings(num_fewshot=1, fewshot_seed=5)
    first = [build(make_task(ROWS, train=TRAIN, settings=settings), chat=False, doc_id=d)[0].context for d in range(3)]
    again = [build(make_task(ROWS, train=TRAIN, settings=settings), chat=False, doc_id=d)[0].context for d in range(3)]
    assert first == again
    assert {context.split("\n\n")[0] for context in first} <= {"Snow? white", "Coal? black"}


def test_system_instruction_in_a_plain_prompt(make_task):
    settings = PromptSettings(system_instruction="You are careful.")
    task = make_task(ROWS, train=TRAIN, num_fewshot=1, fewshot_config=FIRST_N, description="D. ", settings=settings)
    assert build(task, chat=False)[0].context == "You are careful.\n\nD. Snow? white\n\nSky?"
    assert build(make_task(ROWS, settings=settings), chat=False)[0].context == "You are careful.\n\nSky?"


def test_system_instruction_is_a_system_message_for_chat(make_task):
    settings = PromptSettings(system_instruction="You are careful.")
    task = make_task(
        ROWS, train=TRAIN, num_fewshot=1, fewshot_config=FIRST_N, description="D. ", settings=settings, doc_to_visual="!function doc_to_visual"
    )
    [request] = build(task, chat=True)
    system, user = request.context.messages
    assert system == Message("system", (text_part("You are careful."),))
    assert user.role == "user"
    assert [part.type for part in user.content] == ["image", "text"]
    assert user.content[1] == text_part("D. Snow? white\n\nSky?")


def test_fewshot_as_multiturn_layout(make_task):
    settings = PromptSettings(system_instruction="SYS", fewshot_as_multiturn=True)
    task = make_task(
        ROWS, train=TRAIN, num_fewshot=2, fewshot_config=FIRST_N, description="D: ", settings=settings, doc_to_visual="!function doc_to_visual"
    )
    [request] = build(task, chat=True)
    messages = request.context.messages
    assert [message.role for message in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[:5] == (
        Message("system", (text_part("SYS"),)),
        Message("user", (text_part("D: Snow?"),)),
        Message("assistant", (text_part("white"),)),
        Message("user", (text_part("Coal?"),)),
        Message("assistant", (text_part("black"),)),
    )
    image, text = messages[5].content
    assert pixels(image.media) == (30, 60, 220) and text == text_part("Sky?")
    assert request.visuals == ()


def test_fewshot_as_multiturn_is_ignored_for_simple_models_and_zero_shot(make_task):
    settings = PromptSettings(fewshot_as_multiturn=True)
    task = make_task(ROWS, train=TRAIN, num_fewshot=1, fewshot_config=FIRST_N, settings=settings)
    assert build(task, chat=False)[0].context == "Snow? white\n\nSky?"
    zero_shot = make_task(ROWS, settings=settings)
    assert build(zero_shot, chat=True)[0].context.messages == (Message("user", (text_part("Sky?"),)),)


def test_doc_to_messages_is_used_for_chat_models(make_task):
    task = make_task(ROWS, doc_to_messages="!function doc_to_messages")
    [request] = build(task, chat=True)
    system, user = request.context.messages
    assert system == Message("system", (text_part("You name colours."),))
    image, text = user.content
    assert pixels(image.media) == (30, 60, 220) and text == text_part("Q: Sky?")
    assert request.visuals == ()


def test_doc_to_messages_keeps_its_own_system_prompt(make_task):
    task = make_task(ROWS, doc_to_messages="!function doc_to_messages", settings=PromptSettings(system_instruction="Other."))
    roles = [(message.role, message.text) for message in build(task, chat=True)[0].context]
    assert roles == [("system", "You name colours."), ("user", "Q: Sky?")]


def test_system_instruction_is_added_to_doc_to_messages_without_one(make_task):
    task = make_task(ROWS, doc_to_messages="!function doc_to_messages_no_system", settings=PromptSettings(system_instruction="SYS"))
    messages = build(task, chat=True)[0].context.messages
    assert messages[0] == Message("system", (text_part("SYS"),))
    assert [part.type for part in messages[1].content] == ["text", "image", "text"]


def test_simple_models_use_doc_to_text_beside_doc_to_messages(make_task):
    task = make_task(ROWS, doc_to_messages="!function doc_to_messages", doc_to_visual="!function doc_to_visual")
    [request] = build(task, chat=False)
    assert request.context == "Sky?"
    assert [pixels(image) for image in request.visuals] == [(30, 60, 220)]


def test_simple_models_flatten_doc_to_messages_without_doc_to_text(make_task):
    task = make_task(ROWS, doc_to_text=None, doc_to_messages="!function doc_to_messages_no_system")
    [request] = build(task, chat=False, doc_id=2)
    assert request.context == "Look:\nBlood?"
    assert [pixels(image) for image in request.visuals] == [(220, 30, 30)]


def test_malformed_doc_to_messages_name_the_doc(make_task):
    task = make_task(ROWS, doc_to_messages=[{"role": "user", "content": [{"type": "gif", "url": "x"}]}])
    with pytest.raises(DocumentError, match="task colours doc 1: doc_to_messages returned malformed messages"):
        build(task, chat=True, doc_id=1)


# --- request keys ----------------------------------------------------------------------


def keys(task: Task, chat: bool) -> list[str]:
    docs = task.eval_docs()
    return [request.key for request in iter_requests(RequestBuilder(task, chat), docs, range(len(docs)))]


@pytest.mark.parametrize("chat", [False, True])
def test_keys_are_equal_for_independently_built_tasks(make_task, chat):
    first = keys(make_task(ROWS, doc_to_visual="!function doc_to_visual", repeats=2), chat)
    second = keys(make_task(ROWS, doc_to_visual="!function doc_to_visual", repeats=2), chat)
    assert first == second
    assert len(set(first)) == 6


@pytest.mark.parametrize(
    "changes",
    [
        {"doc_to_text": "{{q}} Answer briefly."},
        {"rows": [{**ROWS[0], "rgb": [30, 60, 221]}, *ROWS[1:]]},
        {"generation_kwargs": {"max_new_tokens": 9}},
        {"description": "Colours: "},
        {"name": "colours_v2"},
    ],
)
@pytest.mark.parametrize("chat", [False, True])
def test_keys_change_with_what_is_asked(make_task, changes, chat):
    base = {"rows": ROWS, "doc_to_visual": "!function doc_to_visual", "generation_kwargs": {"max_new_tokens": 8}}
    original = keys(make_task(**base), chat)[0]
    changed = keys(make_task(**{**base, **changes}), chat)[0]
    assert changed != original


def test_keys_differ_by_doc_id_for_identical_docs(make_task):
    task = make_task([ROWS[0], ROWS[0]], doc_to_visual="!function doc_to_visual")
    first, second = keys(task, chat=True)
    assert first != second


def test_simple_and_chat_keys_differ(make_task):
    task = make_task(ROWS, doc_to_visual="!function doc_to_visual")
    assert keys(task, chat=False) != keys(task, chat=True)


KEYS_SCRIPT = """
import json, sys
from pathlib import Path
from lmms_eval.engine.requests import RequestBuilder, iter_requests
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.task import PromptSettings, Task
from lmms_eval.taskdefs.yaml_io import read_yaml

path = Path(sys.argv[1])
task = Task(TaskConfig.from_dict(read_yaml(path), source=str(path)), PromptSettings(system_instruction="SYS"))
docs = task.eval_docs()
out = {}
for chat in (False, True):
    out[str(chat)] = [r.key for r in iter_requests(RequestBuilder(task, chat), docs, range(len(docs)))]
print(json.dumps(out))
"""


def test_keys_are_equal_in_another_process(colour_task: Path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = colour_task / "colours.yaml"
    task = Task(TaskConfig.from_dict(read_yaml(path), source=str(path)), PromptSettings(system_instruction="SYS"))
    docs = task.eval_docs()
    here = {str(chat): keys_for(task, docs, chat) for chat in (False, True)}
    environment = {**os.environ, "PYTHONHASHSEED": "12345", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", KEYS_SCRIPT, str(path)], capture_output=True, text=True, env=environment, timeout=60, check=True
    )
    there = json.loads(result.stdout.strip().splitlines()[-1])
    assert there == here
    assert len(set(here["False"])) == 10


def keys_for(task: Task, docs, chat: bool) -> list[str]:
    return [request.key for request in iter_requests(RequestBuilder(task, chat), docs, range(len(docs)))]


def test_a_missing_media_file_makes_that_doc_unbuilt(make_task, tmp_path):
    rows = [{"q": "Clip?", "a": "x", "video": str(tmp_path / "present.mp4")}, {"q": "Clip?", "a": "y", "video": str(tmp_path / "gone.mp4")}]
    (tmp_path / "present.mp4").write_bytes(b"frames")
    task = make_task(rows, doc_to_visual="!function doc_to_video")
    assert build(task, chat=False, doc_id=0)[0].visuals == (str(tmp_path / "present.mp4"),)
    for chat in (False, True):
        present, gone = iter_requests(RequestBuilder(task, chat), task.eval_docs(), [0, 1])
        assert isinstance(present, Request)
        assert isinstance(gone, UnbuiltDoc) and gone.origin == Origin("colours", 1, 0)
        assert gone.reason.startswith("doc 1: cannot read a media file: ") and "gone.mp4" in gone.reason


def write_images(path: Path, images: list[bytes]) -> None:
    import datasets

    features = datasets.Features({"q": datasets.Value("string"), "a": datasets.Value("string"), "image": datasets.Image()})
    rows = [{"q": f"Q{i}?", "a": "red", "image": {"bytes": data, "path": None}} for i, data in enumerate(images)]
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(path))


def image_task(tmp_path: Path, images: list[bytes], **keys) -> Task:
    data = tmp_path / "images.parquet"
    write_images(data, images)
    raw = {"task": "pics", "dataset_path": "parquet", "dataset_kwargs": {"data_files": {"test": str(data)}}, "test_split": "test",
           "doc_to_text": "{{q}}", "doc_to_target": "a", "doc_to_visual": "image", **keys}
    return Task(TaskConfig.from_dict(raw, source=str(tmp_path / "pics.yaml")), PromptSettings())


GOOD_PNG = png_bytes("red")


@pytest.mark.parametrize(
    "broken, reason",
    [
        (GOOD_PNG[: len(GOOD_PNG) // 2], "doc 1: cannot decode image (column 'image'): image file is truncated"),
        (b"not an image at all", "doc 1: cannot decode image (column 'image'): not an image file, or a format Pillow does not read"),
    ],
    ids=["truncated", "not-an-image"],
)
@pytest.mark.parametrize("chat", [False, True])
def test_a_corrupt_image_makes_only_its_doc_unbuilt(tmp_path, broken, reason, chat):
    task = image_task(tmp_path, [GOOD_PNG, broken, GOOD_PNG])
    built = list(iter_requests(RequestBuilder(task, chat), task.eval_docs(), [0, 1, 2]))
    assert [type(item) for item in built] == [Request, UnbuiltDoc, Request]
    assert built[1].reason.startswith(reason)
    assert built[1].origin == Origin("pics", 1, 0)
    assert built[1].key not in {built[0].key, built[2].key}
    rebuilt = Task(task.config, PromptSettings())
    again = list(iter_requests(RequestBuilder(rebuilt, chat), rebuilt.eval_docs(), [1]))
    assert again[0].key == built[1].key  # the same doc is named the same way on every run


def test_a_corrupt_image_in_a_fewshot_example_names_the_example(tmp_path):
    task = image_task(tmp_path, [GOOD_PNG, b"junk", GOOD_PNG], fewshot_split="test", num_fewshot=1, fewshot_config={"sampler": "first_n"})
    built = list(iter_requests(RequestBuilder(task, False), task.eval_docs(), [0]))
    assert isinstance(built[0], UnbuiltDoc)
    assert built[0].reason.startswith("doc 0: few-shot example 1: cannot decode image (column 'image')")


def test_an_image_that_task_code_cannot_open_is_bad_input(make_task, tmp_path):
    (tmp_path / "junk.png").write_bytes(b"junk")
    rows = [{"q": "Pic?", "a": "x", "path": str(tmp_path / "junk.png")}, {"q": "Pic?", "a": "y", "path": str(tmp_path / "none.png")}]
    task = make_task(rows, doc_to_visual="!function open_image")
    junk, missing = iter_requests(RequestBuilder(task, True), task.eval_docs(), [0, 1])
    assert junk.reason == "doc 0: doc_to_visual cannot read its media: not an image file, or a format Pillow does not read"
    assert missing.reason.startswith("doc 1: doc_to_visual cannot read its media: [Errno 2] No such file or directory")


# --- generated inputs: no doc can crash the builder ---------------------------------------------

MUTATED_IMAGES = st.one_of(
    st.integers(0, len(GOOD_PNG)).map(lambda cut: GOOD_PNG[:cut]),  # truncated anywhere
    st.tuples(st.integers(0, len(GOOD_PNG) - 1), st.integers(1, 255)).map(  # one byte changed
        lambda flip: GOOD_PNG[: flip[0]] + bytes([GOOD_PNG[flip[0]] ^ flip[1]]) + GOOD_PNG[flip[0] + 1 :]
    ),
    st.binary(max_size=64),  # anything at all
)
PROMPT_FIELDS = st.one_of(st.none(), st.text(max_size=12))


@pytest.fixture(scope="module")
def generated_task(tmp_path_factory):
    return image_task(tmp_path_factory.mktemp("generated"), [GOOD_PNG])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(images=st.lists(MUTATED_IMAGES, min_size=1, max_size=3), questions=st.lists(PROMPT_FIELDS, min_size=3, max_size=3), chat=st.booleans())
def test_generated_docs_give_requests_an_unbuilt_doc_or_one_named_error(generated_task, images, questions, chat):
    """Whatever the image bytes and prompt fields: each doc gives its requests, or one
    `UnbuiltDoc` naming it, or a DocumentError naming the task, the doc and the field."""
    import datasets

    features = datasets.Features({"q": datasets.Value("string"), "a": datasets.Value("string"), "image": datasets.Image()})
    rows = [{"q": questions[i], "a": "red", "image": {"bytes": data, "path": None}} for i, data in enumerate(images)]
    docs = datasets.Dataset.from_list(rows, features=features)
    for doc_id in range(len(rows)):
        try:
            built = list(iter_requests(RequestBuilder(generated_task, chat), docs, [doc_id]))
        except DocumentError as error:
            assert questions[doc_id] is None
            assert str(error) == f"task pics doc {doc_id}: doc_to_text: field 'q' is null or missing, so the template would print None"
            continue
        if isinstance(built[0], UnbuiltDoc):
            assert len(built) == 1 and built[0].origin == Origin("pics", doc_id, 0)
            assert built[0].reason.startswith(f"doc {doc_id}: cannot decode image (column 'image'): ")
        else:
            assert [type(item) for item in built] == [Request] and questions[doc_id] is not None
