"""--cache_requests: built requests restored without rendering docs; media loaded only when sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmms_eval.api.request import Request
from lmms_eval.engine.request_cache import CACHE_FOLDER_ENV, PendingRequest, cache_path, cached_requests
from lmms_eval.engine.requests import RequestBuilder, UnbuiltDoc, iter_requests
from lmms_eval.taskdefs.task import PromptSettings, Task

ROWS = [
    {"q": "Sky?", "a": "blue", "rgb": [30, 60, 220], "choices": ["red", "blue", "green"], "gold": 1},
    {"q": "Grass?", "a": "green", "rgb": [30, 160, 60], "choices": ["green", "yellow"], "gold": 0},
    {"q": "Blood?", "a": "red", "rgb": [220, 30, 30], "choices": ["purple", "red", "black"], "gold": 1},
]
TRAIN = [{"q": "Snow?", "a": "white", "rgb": [245, 245, 245], "choices": ["white", "black"], "gold": 0}]


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "request-cache"
    monkeypatch.setenv(CACHE_FOLDER_ENV, str(folder))
    return folder


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """The doc ids Task.render was called for."""
    seen: list[int] = []
    original = Task.render

    def counting(self, doc_id, doc, chat):
        seen.append(doc_id)
        return original(self, doc_id, doc, chat)

    monkeypatch.setattr(Task, "render", counting)
    return seen


def requests_of(task: Task, chat: bool, doc_ids: list[int], mode: str | None) -> list:
    return list(cached_requests(RequestBuilder(task, chat), task.eval_docs(), doc_ids, mode))


def fresh(task: Task, chat: bool, doc_ids: list[int]) -> list:
    return list(iter_requests(RequestBuilder(task, chat), task.eval_docs(), doc_ids))


@pytest.mark.parametrize("chat", [False, True])
@pytest.mark.parametrize("output_type", ["generate_until", "multiple_choice"])
def test_text_requests_come_back_whole_without_rendering(make_task, renders, chat, output_type):
    task = make_task(ROWS, train=TRAIN, num_fewshot=1, output_type=output_type, doc_to_choice="choices", doc_to_target="gold",
                     settings=PromptSettings(system_instruction="Be brief."))
    built = requests_of(task, chat, [0, 1, 2], "true")
    assert renders == [0, 1, 2]
    restored = requests_of(task, chat, [0, 1, 2], "true")
    assert renders == [0, 1, 2]  # nothing rendered the second time
    assert all(isinstance(request, Request) for request in restored)
    assert [request.key for request in restored] == [request.key for request in built] == [request.key for request in fresh(task, chat, [0, 1, 2])]
    assert [request.context for request in restored] == [request.context for request in built]
    assert [dict(request.gen_kwargs) for request in restored] == [dict(request.gen_kwargs) for request in built]


def test_media_requests_wait_as_pending_until_they_must_be_sent(make_task, renders):
    task = make_task(ROWS, doc_to_visual="!function doc_to_visual")
    built = requests_of(task, True, [0, 1, 2], "true")
    renders.clear()
    restored = requests_of(task, True, [0, 1, 2], "true")
    assert renders == [] and all(isinstance(request, PendingRequest) for request in restored)
    assert [(request.key, request.prompt) for request in restored] == [(request.key, request.prompt) for request in built]
    sent = restored[1].build()  # the doc is rendered again, with its image
    assert renders == [1] and isinstance(sent, Request) and sent.key == built[1].key
    assert sent.context.media()[0].getpixel((0, 0)) == (30, 160, 60)


def test_inference_answers_pending_requests_from_the_store_without_reading_docs(make_task, renders, tmp_path):
    from lmms_eval.api.model import Model
    from lmms_eval.api.request import RequestType
    from lmms_eval.api.response import Response
    from lmms_eval.engine.inference import ResponseCache, run_inference
    from lmms_eval.store.identity import ModelIdentity
    from lmms_eval.store.sqlite import ResponseStore

    class Namer(Model):
        is_chat = True

        def generate_until(self, requests):
            for request in requests:
                yield Response.generated(request, str(request.context.media()[0].getpixel((0, 0))))

    task = make_task(ROWS, doc_to_visual="!function doc_to_visual")
    store = ResponseStore(str(tmp_path / "store.sqlite"))
    cache = ResponseCache(store, ModelIdentity("namer", "namer"))
    first = run_inference(Namer(), RequestType.GENERATE_UNTIL, cached_requests(RequestBuilder(task, True), task.eval_docs(), [0, 1], "true"), None, cache)
    renders.clear()
    again = run_inference(Namer(), RequestType.GENERATE_UNTIL, cached_requests(RequestBuilder(task, True), task.eval_docs(), [0, 1], "true"), None, cache)
    assert renders == [] and again.from_store == 2
    assert {key: response.text for key, response in again.responses.items()} == {key: response.text for key, response in first.responses.items()}
    assert again.prompts == first.prompts
    # A doc not in the store is rendered and asked.
    store.close()
    fresh_store = ResponseStore(str(tmp_path / "other.sqlite"))
    third = run_inference(Namer(), RequestType.GENERATE_UNTIL, cached_requests(RequestBuilder(task, True), task.eval_docs(), [0, 1], "true"), None,
                          ResponseCache(fresh_store, ModelIdentity("namer", "namer")))
    fresh_store.close()
    assert renders == [0, 1] and third.from_store == 0 and third.responses[(1, 0)].text == "(30, 160, 60)"


def test_a_window_the_cache_does_not_cover_is_built_and_added(make_task, renders):
    task = make_task(ROWS)
    requests_of(task, False, [0, 1], "true")
    requests_of(task, False, [0, 1, 2], "true")  # doc 2 is missing: all built again
    assert renders == [0, 1, 0, 1, 2]
    requests_of(task, False, [2, 0], "true")
    assert renders == [0, 1, 0, 1, 2]


def test_refresh_rebuilds_and_rewrites_and_delete_removes(make_task, renders, cache_folder):
    task = make_task(ROWS)
    requests_of(task, False, [0, 1], "true")
    path = cache_path(RequestBuilder(task, False), task.eval_docs())
    assert path.parent == cache_folder and path.exists()
    data = json.loads(path.read_text())
    data["docs"]["0"][0]["prompt"] = "Changed?"  # a cache edited by hand: its keys no longer match
    path.write_text(json.dumps(data))
    restored = requests_of(task, False, [0, 1], "true")
    assert renders == [0, 1, 0, 1] and restored[0].context == "Sky?"  # stale: built again
    requests_of(task, False, [0, 1], "refresh")
    assert renders == [0, 1, 0, 1, 0, 1]
    assert json.loads(path.read_text())["docs"]["0"][0]["prompt"] == "Sky?"
    requests_of(task, False, [0, 1], "delete")
    assert not path.exists() and renders[-2:] == [0, 1]


def test_the_cache_name_changes_with_what_shapes_the_requests(make_task):
    task = make_task(ROWS)
    base = cache_path(RequestBuilder(task, False), task.eval_docs())
    assert cache_path(RequestBuilder(task, True), task.eval_docs()) != base
    other = make_task(ROWS, settings=PromptSettings(system_instruction="Be brief."))
    assert cache_path(RequestBuilder(other, False), other.eval_docs()) != base
    changed = make_task([{**ROWS[0], "q": "Sea?"}, *ROWS[1:]])
    assert cache_path(RequestBuilder(changed, False), changed.eval_docs()) != base


def test_an_unbuildable_doc_is_not_cached_and_is_built_again(make_task, renders, tmp_path):
    rows = [{**ROWS[0], "path": str(tmp_path / "missing.png")}, {**ROWS[1], "path": str(tmp_path / "missing.png")}]
    task = make_task(rows, doc_to_visual="!function open_image")
    built = requests_of(task, True, [0, 1], "true")
    again = requests_of(task, True, [0, 1], "true")
    assert renders == [0, 1, 0, 1]  # the failure was not cached: the docs are read again
    assert all(isinstance(item, UnbuiltDoc) for item in built + again)
    assert [item.reason for item in again] == [item.reason for item in built]
    from PIL import Image

    Image.new("RGB", (4, 4), (30, 60, 220)).save(tmp_path / "missing.png")  # the file is there now
    fixed = requests_of(task, True, [0, 1], "true")
    assert all(isinstance(item, Request) for item in fixed)


def test_a_cli_rerun_with_the_store_builds_no_request(oracle, colour_task, tmp_path, renders, monkeypatch, cache_folder):
    from lmms_eval.cli.main import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")

    def run(output: str, *extra: str) -> dict:
        args = ["--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle", "--tasks", "colours",
                "--include_path", str(colour_task), "--output_path", str(tmp_path / output), *extra]
        assert main(args) == 0
        return json.loads(next((tmp_path / output).glob("*/*_results.json")).read_text())

    store = str(tmp_path / "store.sqlite")
    first = run("one", "--use_cache", store, "--cache_requests", "true")
    assert len(renders) == 10 and oracle.chat_requests == 10 and len(list(cache_folder.glob("colours-*.json"))) == 1
    again = run("two", "--use_cache", store, "--cache_requests", "true")
    assert len(renders) == 10 and oracle.chat_requests == 10  # no doc rendered, nothing asked
    assert again["results"] == first["results"]
    deleted = run("three", "--cache_requests", "delete")
    assert len(renders) == 20 and oracle.chat_requests == 20 and not list(cache_folder.glob("*.json"))
    assert deleted["results"] == first["results"]


@pytest.mark.parametrize("chat", [False, True])
def test_a_video_replaced_in_place_makes_its_cached_key_stale(make_task, renders, tmp_path, chat):
    from lmms_eval.testing.videos import write_test_video

    video = write_test_video(tmp_path / "clip.mp4", seconds=1, fps=5)
    task = make_task([{**ROWS[0], "video": str(video)}], doc_to_visual="!function doc_to_video")
    built = requests_of(task, chat, [0], "true")
    assert all(isinstance(item, PendingRequest) for item in requests_of(task, chat, [0], "true"))  # unchanged: from the cache
    write_test_video(video, seconds=2, fps=5)  # other content at the same path
    renders.clear()
    again = requests_of(task, chat, [0], "true")
    assert renders == [0] and isinstance(again[0], Request)  # stale: the doc is built again ...
    assert again[0].key != built[0].key  # ... and keyed by the new file
    assert again[0].key == fresh(task, chat, [0])[0].key
