"""MM-Vet and LLaVA-Bench In-the-Wild through the CLI: fixture splits in each dataset's schema
with generated images, the local oracle server as the evaluated model (`m`) and another as
the judge (`judge-model`), canned judge replies that hit each rule (unparsable replies,
out-of-range grades, failed calls); scores equal hand computations, a second run with the
same store asks the judge nothing, and `rescore` with another judge re-judges."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from benchmark_helpers import solid_image, user_task, write_parquet
from lmms_eval.cli.main import main
from lmms_eval.testing.server import FaultPlan, OracleServer

TEXT = datasets.Value("string")
JUDGE = "judge-model"
ALWAYS_FAILS = FaultPlan(status=500, every=1, failures=1_000_000)


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_API_URL", "OPENAI_BASE_URL", "MODEL_VERSION", "API_TYPE"):
        monkeypatch.delenv(name, raising=False)


def judged_run(task: str, folder: Path, output: Path, model_canned: dict, judge: OracleServer, *extra: str, exit_code: int = 0) -> dict:
    with OracleServer(canned=model_canned) as server:
        code = main([
            "--model", "openai", "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
            "--tasks", task, "--include_path", str(folder), "--output_path", str(output), "--log_samples",
            "--judge_model", "openai_compatible", "--judge_args", f"base_url={judge.base_url},model={judge.model_name},max_retries=0",
            *extra,
        ])  # fmt: skip
    assert code == exit_code
    return newest_results(output)


def newest_results(output: Path) -> dict:
    path = max(output.glob("*/*_results.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(path.read_text())


def rescore(output: Path, folder: Path, new_output: Path, judge: OracleServer, store: Path) -> dict:
    judge_args = f"base_url={judge.base_url},model={judge.model_name},max_retries=0"
    argv = ["rescore", str(output), "--include_path", str(folder), "--output_path", str(new_output),
            "--judge_model", "openai_compatible", "--judge_args", judge_args, "--use_cache", str(store)]  # fmt: skip
    assert main(argv) == 0
    return newest_results(new_output)


# --- MM-Vet ------------------------------------------------------------------------------------

MMVET_FEATURES = datasets.Features(
    {"question_id": TEXT, "image": datasets.Image(), "question": TEXT, "answer": TEXT, "image_source": TEXT, "capability": TEXT}
)
# question, ground truth, capability, model reply, judge reply, grade
MMVET = [
    ("[m1] What is 2+3?", "5", "math", "[a1] 5", "1.0", 1.0),
    ("[m2] What does the sign say?", "STOP<AND>sign", "ocr,rec", "[a2] stop", "0.5", 0.5),
    ("[m3] What animal is it?", "cat", "rec", "[a3] a dog", "Score: 0.8", 0.0),  # unparsable at every temperature
    ("[m4] Who painted it?", "Monet<OR>Claude Monet", "rec,know", "[a4] Manet", "1.5", 0.0),  # out of range at every temperature
    ("[m5] What is written?", "open", "ocr,rec", "[a5] opened", "0.3 partially right", 0.3),  # first token
]


def write_mmvet(folder: Path) -> None:
    rows = [{"question_id": f"v1_{i}", "image": solid_image(i), "question": q, "answer": a, "image_source": "fixture", "capability": cap}
            for i, (q, a, cap, *_rest) in enumerate(MMVET)]  # fmt: skip
    data = write_parquet(folder / "data" / "test.parquet", rows, MMVET_FEATURES)
    user_task(folder, "mmvet", "mmvet/mmvet.yaml", "test", data)


def test_mmvet(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_mmvet(folder)
    store = tmp_path / "store.sqlite"
    model = {row[0].split("]")[0] + "]": row[3] for row in MMVET}
    judge_canned = {row[3]: row[4] for row in MMVET}
    with OracleServer(model_name=JUDGE, canned=judge_canned, record_bodies=True) as judge:
        first = judged_run("mmvet", folder, tmp_path / "first", model, judge, "--use_cache", str(store))
        prompts = [body["messages"][-1]["content"] for body in judge.bodies]
        asked = judge.chat_requests
        again = judged_run("mmvet", folder, tmp_path / "again", model, judge, "--use_cache", str(store))
        assert judge.chat_requests == asked  # the re-run asks the judge nothing
    scores = first["results"]["mmvet"]
    assert scores["gpt_eval_score,none"] == pytest.approx(100 * (1.0 + 0.5 + 0.0 + 0.0 + 0.3) / 5)
    assert scores["mmvet_capabilities,none"] == {"rec": pytest.approx(20.0), "ocr": pytest.approx(40.0), "know": 0.0, "math": 100.0}
    assert scores["mmvet_combinations,none"] == {"math": 100.0, "rec": 0.0, "rec_know": 0.0, "rec_ocr": pytest.approx(40.0)}
    assert scores["mmvet_grading,none"] == {"graded": 3, "ungraded": 2, "judge_failed": 0}
    entry = first["judges"]["mmvet"]
    # 5 asks at temperature 0, then the two ungraded ones again at 0.5, 1.0 and 1.5
    assert entry["calls"] == asked == 5 + 2 * 3 and entry["model"] == JUDGE and entry["max_tokens"] == 128
    texts = [p if isinstance(p, str) else "".join(part.get("text", "") for part in p) for p in prompts]
    assert any(text.endswith("[m2] What does the sign say? | STOP <AND> sign | [a2] stop | ") for text in texts)
    assert all("Iceland and Greenland" in text for text in texts)  # the few-shot grader
    assert again["judges"]["mmvet"]["calls"] == 0 and again["judges"]["mmvet"]["from_store"] == 11
    assert again["results"]["mmvet"] == scores

    with OracleServer(model_name="judge-b", canned={"[a": "0.9"}) as judge_b:
        rescored = rescore(tmp_path / "first", folder, tmp_path / "rescored", judge_b, store)
    assert rescored["judges"]["mmvet"]["model"] == "judge-b" and rescored["judges"]["mmvet"]["calls"] == 5
    assert rescored["results"]["mmvet"]["gpt_eval_score,none"] == pytest.approx(90.0)

    with OracleServer(model_name=JUDGE, fault=ALWAYS_FAILS) as failing:
        failed = judged_run("mmvet", folder, tmp_path / "failed", model, failing, exit_code=3)
    assert failed["results"]["mmvet"]["gpt_eval_score,none"] == 0.0
    assert failed["results"]["mmvet"]["mmvet_grading,none"]["judge_failed"] == 5 and failed["judges"]["mmvet"]["failures"] == 5


# --- LLaVA-Bench In-the-Wild ---------------------------------------------------------------------

LLAVA_FEATURES = datasets.Features(
    {"question_id": datasets.Value("int64"), "question": TEXT, "image": datasets.Image(), "caption": TEXT, "gpt_answer": TEXT,
     "category": TEXT, "image_id": TEXT}
)  # fmt: skip
# question, category, model reply, judge review, (reference, model) rating
LLAVA = [
    ("[w1] What is on the table?", "conv", "[b1] a cup", "8 6\nAssistant 2 misses the plate.", (8, 6)),
    ("[w2] Describe the scene.", "detail", "[b2] a kitchen", "7, 7\nBoth are fine.", (7, 7)),
    ("[w3] Why is it funny?", "complex", "[b3] no idea", "The scores are 9 and 4.", (-1, -1)),  # unparsable: kept as -1, -1
    ("[w4] What might happen next?", "complex", "[b4] rain", "8 12\nOut of range, kept.", (8, 12)),
]


def write_llava(folder: Path) -> None:
    rows = [{"question_id": i, "question": q, "image": solid_image(i), "caption": f"caption {i}\nsecond line", "gpt_answer": f"reference {i}",
             "category": category, "image_id": f"{i:03d}"} for i, (q, category, *_rest) in enumerate(LLAVA)]  # fmt: skip
    data = write_parquet(folder / "data" / "train.parquet", rows, LLAVA_FEATURES)
    user_task(folder, "llava_in_the_wild", "llava_in_the_wild/llava_in_the_wild.yaml", "train", data)


def relative(pairs: list[tuple[float, float]]) -> float:
    return round(100 * (sum(m for _, m in pairs) / len(pairs)) / (sum(r for r, _ in pairs) / len(pairs)), 1)


def test_llava_in_the_wild(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_llava(folder)
    store = tmp_path / "store.sqlite"
    model = {row[0].split("]")[0] + "]": row[2] for row in LLAVA}
    judge_canned = {row[2]: row[3] for row in LLAVA}
    with OracleServer(model_name=JUDGE, canned=judge_canned, record_bodies=True) as judge:
        first = judged_run("llava_in_the_wild", folder, tmp_path / "first", model, judge, "--use_cache", str(store))
        body = judge.bodies[0]
        again = judged_run("llava_in_the_wild", folder, tmp_path / "again", model, judge, "--use_cache", str(store))
        assert judge.chat_requests == len(LLAVA)
    pairs = [row[4] for row in LLAVA]
    scores = first["results"]["llava_in_the_wild"]
    assert scores["gpt_eval_llava_all,none"] == relative(pairs) == 109.1
    assert scores["gpt_eval_llava_conv,none"] == 75.0 and scores["gpt_eval_llava_detail,none"] == 100.0
    assert scores["gpt_eval_llava_complex,none"] == relative(pairs[2:]) == 157.1
    assert scores["llava_reviews,none"] == {"reviewed": 3, "unparsable": 1, "judge_failed": 0, "reference_mean": 5.5, "model_mean": 6.0}
    system = body["messages"][0]
    text = system["content"] if isinstance(system["content"], str) else "".join(part["text"] for part in system["content"])
    assert system["role"] == "system" and text == "You are a helpful and precise assistant for checking the quality of the answer."
    assert first["judges"]["llava_in_the_wild"]["temperature"] == 0.2 and first["judges"]["llava_in_the_wild"]["calls"] == 4
    assert again["judges"]["llava_in_the_wild"]["calls"] == 0 and again["results"]["llava_in_the_wild"] == scores

    with OracleServer(model_name="judge-b", canned={"[b": "5 10\nlenient"}) as judge_b:
        rescored = rescore(tmp_path / "first", folder, tmp_path / "rescored", judge_b, store)
    assert rescored["judges"]["llava_in_the_wild"]["model"] == "judge-b" and rescored["results"]["llava_in_the_wild"]["gpt_eval_llava_all,none"] == 200.0

    with OracleServer(model_name=JUDGE, fault=ALWAYS_FAILS) as failing:
        failed = judged_run("llava_in_the_wild", folder, tmp_path / "failed", model, failing, exit_code=3)
    reviews = failed["results"]["llava_in_the_wild"]["llava_reviews,none"]
    assert reviews["judge_failed"] == 4 and failed["judges"]["llava_in_the_wild"]["failures"] == 4
    # every review failed: (-1, -1) each, kept in the averages as the official summary does
    assert failed["results"]["llava_in_the_wild"]["gpt_eval_llava_all,none"] == 100.0
