"""What `--cache_requests` saves on a large task (issue 15).

Two 20,000-doc tasks are built in a temporary folder:
- `text`: a JSONL task with a Jinja prompt and 3-shot examples (every request is restored
  whole from the cache);
- `image`: a parquet task with a 32x32 PNG per doc, asked as chat (every request waits as a
  pending request; a full response store answers them without reading a doc).

Printed per task, best of --repeats after a warm-up: the time to produce every request
(a) built as today, (b) built and written to the cache (the first run), (c) read from the
cache; and for the image task, the request and store stage of a re-run answered wholly
from the response store, (d) without and (e) with the request cache.

Run: uv run python benchmarks/bench_cache_requests.py [--docs 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TEXT_YAML = """
task: bench_text
dataset_path: json
dataset_kwargs:
  data_files:
    test: text.jsonl
    train: train.jsonl
test_split: test
training_split: train
num_fewshot: 3
doc_to_text: "Question {{ number }}: what is {{ a }} plus {{ b }}?"
doc_to_target: "{{ a + b }}"
generation_kwargs:
  max_new_tokens: 8
metric_list:
  - metric: exact_match
"""

IMAGE_YAML = """
task: bench_image
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: images.parquet
test_split: test
doc_to_visual: !function utils.doc_to_visual
doc_to_text: "What colour is this image? Answer with one word."
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 8
metric_list:
  - metric: exact_match
"""

UTILS = """
def doc_to_visual(doc):
    return [doc["image"].convert("RGB")]
"""

COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180)]


def write_tasks(folder: Path, docs: int) -> None:
    import datasets
    from PIL import Image

    (folder / "bench_text.yaml").write_text(TEXT_YAML)
    (folder / "bench_image.yaml").write_text(IMAGE_YAML)
    (folder / "utils.py").write_text(UTILS)
    with (folder / "text.jsonl").open("w") as stream:
        for number in range(docs):
            stream.write(json.dumps({"number": number, "a": number % 97, "b": number % 13}) + "\n")
    with (folder / "train.jsonl").open("w") as stream:
        for number in range(50):
            stream.write(json.dumps({"number": number, "a": number, "b": 1}) + "\n")
    rows = {"image": [{"bytes": _png(COLOURS[number % len(COLOURS)], number), "path": None} for number in range(docs)],
            "answer": [str(number % len(COLOURS)) for number in range(docs)]}
    features = datasets.Features({"image": datasets.Image(), "answer": datasets.Value("string")})
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(folder / "images.parquet"))


def _png(colour: tuple[int, int, int], number: int) -> bytes:
    """A 32x32 PNG of the colour with one pixel set from the doc number, so every doc's image differs."""
    from PIL import Image

    image = Image.new("RGB", (32, 32), colour)
    image.putpixel((0, 0), (number % 256, (number // 256) % 256, 7))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def best_of(repeats: int, action: Callable[[], object]) -> float:
    action()  # warm-up: imports, dataset loading, page cache
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cache-requests-") as scratch:
        root = Path(scratch)
        os.environ["LMMS_EVAL_REQUEST_CACHE"] = str(root / "request-cache")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ["HF_DATASETS_CACHE"] = str(root / "hf-datasets")
        tasks_folder = root / "tasks"
        tasks_folder.mkdir()
        write_tasks(tasks_folder, options.docs)

        from lmms_eval.engine.request_cache import cache_path, cached_requests
        from lmms_eval.engine.requests import RequestBuilder
        from lmms_eval.taskdefs.index import TaskIndex
        from lmms_eval.taskdefs.task import PromptSettings, Task

        selection = TaskIndex.build([str(tasks_folder)]).select(["bench_text", "bench_image"])
        print(f"{options.docs} docs a task, best of {options.repeats} after a warm-up")
        for name, chat in (("bench_text", False), ("bench_image", True)):
            task = Task(selection.configs[name], PromptSettings(model_name="bench"))
            docs = task.eval_docs()
            doc_ids = list(range(len(docs)))
            builder = RequestBuilder(task, chat=chat)
            path = cache_path(builder, docs)

            def produce(mode: str | None) -> int:
                return sum(1 for _ in cached_requests(builder, docs, doc_ids, mode))

            def first_run() -> None:
                path.unlink(missing_ok=True)
                produce("true")

            built = best_of(options.repeats, lambda: produce(None))
            written = best_of(options.repeats, first_run)
            restored = best_of(options.repeats, lambda: produce("true"))
            size = path.stat().st_size / 1e6
            print(f"{name}: (a) built {built:.2f} s   (b) built and cached {written:.2f} s   (c) from the cache {restored:.2f} s"
                  f"   ({built / restored:.1f}x faster; cache file {size:.1f} MB)")
            if chat:
                rerun_figures(task, builder, docs, doc_ids, root, options.repeats)
    return 0


def rerun_figures(task, builder, docs, doc_ids, root: Path, repeats: int) -> None:
    """The request and store stage of a re-run that the response store answers whole."""
    from lmms_eval.api.model import Model
    from lmms_eval.api.request import RequestType
    from lmms_eval.api.response import Response
    from lmms_eval.engine.inference import ResponseCache, run_inference
    from lmms_eval.engine.request_cache import cached_requests
    from lmms_eval.store.identity import ModelIdentity
    from lmms_eval.store.sqlite import ResponseStore

    class Instant(Model):
        is_chat = True

        def generate_until(self, requests):
            for request in requests:
                yield Response.generated(request, "red")

    store = ResponseStore(str(root / "store.sqlite"))
    cache = ResponseCache(store, ModelIdentity("instant", "instant"))
    run_inference(Instant(), RequestType.GENERATE_UNTIL, cached_requests(builder, docs, doc_ids, "true"), None, cache)  # fills the store

    def rerun(mode: str | None) -> None:
        answered = run_inference(Instant(), RequestType.GENERATE_UNTIL, cached_requests(builder, docs, doc_ids, mode), None, cache)
        assert answered.from_store == len(doc_ids)

    without = best_of(repeats, lambda: rerun(None))
    with_cache = best_of(repeats, lambda: rerun("true"))
    store.close()
    print(f"bench_image re-run answered from the store: (d) without the request cache {without:.2f} s   (e) with it {with_cache:.2f} s"
          f"   ({without / with_cache:.1f}x faster)")


if __name__ == "__main__":
    sys.exit(main())
