"""The judged benchmarks through the CLI, one run per family: fixture splits in each
dataset's schema (generated images; a generated H.264 clip for ActivityNet-QA), the local
oracle server as the evaluated model and another as the judge (two model names), canned judge
replies that hit each benchmark's parsing rules (unparsable replies, out-of-range values),
and failed judge calls; scores checked against hand computations, and the judge entry."""

from __future__ import annotations

import datasets
import pytest

from benchmark_helpers import solid_image, user_task, write_parquet
from judge_helpers import ALWAYS_FAILS, JUDGE_MODEL, run_judged

TEXT = datasets.Value("string")


def judge_entry(run, task):
    entry = run.results["judges"][task]
    assert entry["model"] == JUDGE_MODEL and entry["backend"] == "openai_compatible" and entry["endpoint"] == run.judge.base_url
    return entry


# --- MathVista ---------------------------------------------------------------------------------

MATHVISTA_FEATURES = datasets.Features(
    {"pid": TEXT, "question": TEXT, "image": TEXT, "decoded_image": datasets.Image(), "choices": datasets.List(TEXT), "unit": TEXT,
     "precision": datasets.Value("float64"), "answer": TEXT, "question_type": TEXT, "answer_type": TEXT,
     "metadata": {"category": TEXT, "context": TEXT, "grade": TEXT, "img_height": datasets.Value("int64"), "img_width": datasets.Value("int64"),
                  "language": TEXT, "skills": datasets.List(TEXT), "source": TEXT, "split": TEXT, "task": TEXT},
     "query": TEXT}
)  # fmt: skip
# pid, question, choices, precision, answer, question_type, answer_type, model reply, judge reply, right?
MATHVISTA = [
    ("1", "[q1] Which is larger?", ["3/11", "8/11"], None, "8/11", "multi_choice", "text", "8/11", None, True),  # rules
    ("2", "[q2] Which is blue?", ["3/11", "8/11"], None, "8/11", "multi_choice", "text", "[r2] I pick (B)", "B", True),
    ("3", "[q3] How long is it?", None, 1.0, "2.5", "free_form", "float", "[r3] about 2.5 cm", "2.5", True),  # float64 precision
    ("4", "[q4] How many dots?", None, None, "7", "free_form", "integer", "[r4] seven", "I do not know", False),  # unparsable
]


def write_mathvista(folder):
    rows = [{"pid": pid, "question": q, "image": f"images/{pid}.jpg", "decoded_image": solid_image(int(pid)), "choices": choices, "unit": None,
             "precision": precision, "answer": answer, "question_type": qtype, "answer_type": atype,
             "metadata": {"category": "math-targeted-vqa", "context": "synthetic scene", "grade": "daily life", "img_height": 10, "img_width": 10,
                          "language": "english", "skills": ["arithmetic reasoning"], "source": "fixture", "split": "testmini", "task": "figure question answering"},
             "query": f"Hint: fixture.\nQuestion: {q}"}
            for pid, q, choices, precision, answer, qtype, atype, *_rest in MATHVISTA]  # fmt: skip
    data = write_parquet(folder / "data" / "testmini.parquet", rows, MATHVISTA_FEATURES)
    for style in ("format", "cot", "solution"):
        user_task(folder, f"mathvista_testmini_{style}", f"mathvista/mathvista_testmini_{style}.yaml", "testmini", data)


def test_mathvista_group(tmp_path):
    folder = tmp_path / "tasks"
    write_mathvista(folder)
    model = {row[1].split("]")[0] + "]": row[7] for row in MATHVISTA}
    judge = {row[7].split("]")[0] + "]": row[8] for row in MATHVISTA if row[8] is not None}
    run = run_judged(tmp_path, "mathvista_testmini", folder, model, judge)
    assert run.code == 0
    for style in ("format", "cot", "solution"):
        task = f"mathvista_testmini_{style}"
        assert run.scores(task)["gpt_eval_score,none"] == pytest.approx(75.0)
        assert run.scores(task)["mathvista_extraction,none"] == {"by_rules": 1, "by_judge": 3, "judge_failed": 0, "unparsable": 1}
        entry = judge_entry(run, task)
        assert entry["calls"] == 3 and entry["failures"] == 0 and entry["max_tokens"] == 256
    assert run.judge.chat_requests == 9  # three extractions per style
    assert [s["scores"]["none"]["gpt_eval_score"] for s in run.samples("mathvista_testmini_cot")] == [100.0, 100.0, 100.0, 0.0]


def test_mathvista_rerun_asks_the_judge_nothing_and_failures_are_counted(tmp_path):
    folder = tmp_path / "tasks"
    write_mathvista(folder)
    model = {row[1].split("]")[0] + "]": row[7] for row in MATHVISTA}
    judge = {row[7].split("]")[0] + "]": row[8] for row in MATHVISTA if row[8] is not None}
    store = str(tmp_path / "store.db")
    first = run_judged(tmp_path, "mathvista_testmini_format", folder, model, judge, "--use_cache", store, output_name="first")
    again = run_judged(tmp_path, "mathvista_testmini_format", folder, model, judge, "--use_cache", store, output_name="again")
    assert first.code == again.code == 0 and again.judge.chat_requests == 0
    assert again.scores("mathvista_testmini_format") == first.scores("mathvista_testmini_format")
    assert judge_entry(again, "mathvista_testmini_format")["from_store"] == 3
    failed = run_judged(tmp_path, "mathvista_testmini_format", folder, model, judge, judge_fault=ALWAYS_FAILS, output_name="failed")
    assert failed.code == 3 and failed.results is not None  # failed judge calls are counted and written, and the exit status says so
    scores = failed.scores("mathvista_testmini_format")
    # Only the rule-read answer is right; a failed multiple-choice extraction ("") maps to the
    # nearest choice: "3/11" and "8/11" tie at distance 4, the first wins: wrong.
    assert scores["gpt_eval_score,none"] == pytest.approx(25.0)
    assert scores["mathvista_extraction,none"]["judge_failed"] == 3
    assert judge_entry(failed, "mathvista_testmini_format")["failures"] == 3


# --- HallusionBench ---------------------------------------------------------------------------

HALLUSION_FEATURES = datasets.Features(
    {name: TEXT for name in ("category", "subcategory", "visual_input", "set_id", "figure_id", "sample_note", "question_id", "question",
                             "gt_answer_details", "gt_answer", "filename")} | {"image": datasets.Image()}
)  # fmt: skip
# category, set, figure, question, model reply, verdict
HALLUSION = [
    ("VD", "0", "0", "0", "[a0] yes", "correct"),
    ("VD", "0", "1", "0", "[a1] yes", "Incorrect."),
    ("VS", "1", "0", "0", "[a2] cannot tell", "unclear"),  # VS without its figure: right
    ("VS", "1", "1", "0", "[a3] maybe", "I am not sure"),  # unclear: wrong
]


def run_hallusion_bench(tmp_path):
    """hallusion_bench_image over the HALLUSION rows, judged by their verdicts: (run, task folder, model replies)."""
    rows = [{"category": c, "subcategory": "chart", "visual_input": "1", "set_id": s, "figure_id": f, "sample_note": "", "question_id": q,
             "question": f"[h{n}] Is the bar higher than 5?", "gt_answer_details": "It is higher.", "gt_answer": "1",
             "filename": f"{c}/chart/{s}_{f}.png", "image": solid_image(n)}
            for n, (c, s, f, q, *_r) in enumerate(HALLUSION)]  # fmt: skip
    folder = tmp_path / "tasks"
    data = write_parquet(folder / "data" / "image.parquet", rows, HALLUSION_FEATURES)
    user_task(folder, "hallusion_bench_image", "hallusion_bench/hallusion_bench_image.yaml", "image", data)
    model = {f"[h{n}]": row[4] for n, row in enumerate(HALLUSION)}
    verdicts = {row[4].split("]")[0] + "]": row[5] for row in HALLUSION}
    return run_judged(tmp_path, "hallusion_bench_image", folder, model, verdicts), folder, model


def test_hallusion_bench_image(tmp_path):
    run, folder, model = run_hallusion_bench(tmp_path)
    assert run.code == 0
    scores = run.scores("hallusion_bench_image")
    assert scores["aAcc,none"] == 50.0  # rows 0 and 2
    assert scores["fAcc,none"] == pytest.approx(100 / 3, abs=1e-4)  # VD fig 0 of three shown figures
    assert scores["qAcc,none"] == 0.0  # both question groups have a wrong answer
    assert judge_entry(run, "hallusion_bench_image")["calls"] == 4
    failed = run_judged(tmp_path, "hallusion_bench_image", folder, model, {}, judge_fault=ALWAYS_FAILS, output_name="failed")
    assert failed.scores("hallusion_bench_image")["aAcc,none"] == 25.0  # unclear: only row 2 right
    assert failed.scores("hallusion_bench_image")["hallusion_judgements,none"]["judge_failed"] == 4


# --- MMBench with the extractor ---------------------------------------------------------------

MMBENCH_FEATURES = datasets.Features(
    {"index": datasets.Value("int64")} | {name: TEXT for name in ("question", "hint", "A", "B", "C", "D", "answer", "category", "L2-category")}
    | {"image": datasets.Image()} | {name: TEXT for name in ("source", "split", "comment")}
)  # fmt: skip
COLOURS = ["Red", "Blue", "Green", "Yellow"]
# question index, gold option, replies per rotated copy
MMBENCH = [(1, 0, ["A", "[x1] like fire"]), (2, 1, ["C", "[x2] sky"]), (3, 2, ["[x3] grass", "B"])]
MMBENCH_JUDGE = {"[x1]": "D", "[x2]": "A", "[x3]": "E"}  # x2 is never asked: question 2 is lost to the rules


def test_mmbench_en_dev_judged(tmp_path):
    rows, model = [], {}
    for index, gold, replies in MMBENCH:
        for k, reply in enumerate(replies):
            rotated = COLOURS[k:] + COLOURS[:k]
            marker = f"[m{index}-{k}]"
            rows.append({"index": index + k * 1_000_000, "question": f"{marker} Which colour is it?", "hint": None, **dict(zip("ABCD", rotated)),
                         "answer": "ABCD"[rotated.index(COLOURS[gold])], "category": "color", "L2-category": "Perception",
                         "image": solid_image(index), "source": "fixture", "split": "dev", "comment": ""})  # fmt: skip
            model[marker] = reply
    folder = tmp_path / "tasks"
    data = write_parquet(folder / "data" / "dev.parquet", rows, MMBENCH_FEATURES)
    user_task(folder, "mmbench_en_dev_judged", "mmbench/mmbench_en_dev_judged.yaml", "dev", data)
    run = run_judged(tmp_path, "mmbench_en_dev_judged", folder, model, MMBENCH_JUDGE)
    assert run.code == 0
    scores = run.scores("mmbench_en_dev_judged")
    assert scores["circular_acc,none"] == pytest.approx(100 / 3)  # question 1 only
    assert scores["mmbench_rows,none"] == {"rows/rules": 3, "rows/judge": 2, "rows/random": 0, "rows/not_asked": 1, "rows/judge_failed": 0}
    assert judge_entry(run, "mmbench_en_dev_judged")["calls"] == 2 and run.judge.chat_requests == 2


# --- MathVerse --------------------------------------------------------------------------------

MATHVERSE_FEATURES = datasets.Features(
    {name: TEXT for name in ("sample_index", "problem_index", "problem_version", "question")} | {"image": datasets.Image()}
    | {"answer": TEXT, "question_type": TEXT, "metadata": {"split": TEXT, "source": TEXT, "subject": TEXT, "subfield": TEXT}}
    | {name: TEXT for name in ("query_wo", "query_cot", "question_for_eval")}
)  # fmt: skip
# question, gold, model reply, extraction, judgement
MATHVERSE = [
    ("[v0] Find x.", "5", "[e0] x is 5", "5", "1"),
    ("[v1] Find y.", "2", "[e1] y is 3", "3", "0"),
    ("[v2] Find z.", "4", "[e2] z is 4", "4", "Judgement: 1"),  # never exactly 0/1: three tries, then 0
]


def test_mathverse_testmini(tmp_path):
    rows = [{"sample_index": str(n), "problem_index": str(n), "problem_version": "Vision Only", "question": q, "image": solid_image(n),
             "answer": gold, "question_type": "free-form", "metadata": {"split": "testmini", "source": "fixture", "subject": "Plane Geometry", "subfield": "Angle"},
             "query_wo": f"Please directly answer the question and provide the final value, e.g., 1, 2.5, 300.\nQuestion: {q}", "query_cot": "",
             "question_for_eval": q}
            for n, (q, gold, *_r) in enumerate(MATHVERSE)]  # fmt: skip
    folder = tmp_path / "tasks"
    data = write_parquet(folder / "data" / "testmini.parquet", rows, MATHVERSE_FEATURES)
    user_task(folder, "mathverse_testmini", "mathverse/mathverse_testmini.yaml", "testmini", data)
    model = {q.split("]")[0] + "]": reply for q, _g, reply, *_r in MATHVERSE}
    judge = {reply.split("]")[0] + "]": extraction for _q, _g, reply, extraction, _j in MATHVERSE}
    judge |= {q.split("]")[0] + "]": judgement for q, _g, _r, _e, judgement in MATHVERSE}
    run = run_judged(tmp_path, "mathverse_testmini", folder, model, judge)
    assert run.code == 0
    scores = run.scores("mathverse_testmini")
    assert scores["gpt_eval_score,none"] == pytest.approx(100 / 3)
    assert scores["mathverse_judgements,none"] == {"unjudged": 1, "extraction_failed": 0, "judge_failed": 0}
    assert judge_entry(run, "mathverse_testmini")["calls"] == 3 + 3 + 2


# --- CharXiv ----------------------------------------------------------------------------------

CHARXIV_FEATURES = datasets.Features(
    {"image": datasets.Image(), "figure_path": TEXT, "reasoning_q": TEXT, "reasoning_q_source": datasets.Value("int64"), "reasoning_a": TEXT}
    | {f"descriptive_q{i}": datasets.Value("int64") for i in range(1, 5)} | {f"descriptive_a{i}": TEXT for i in range(1, 5)}
    | {"subplot_loc": TEXT, "category": TEXT, "year": TEXT}
)  # fmt: skip


def test_charxiv_group(tmp_path):
    import json

    rows = [{"image": solid_image(c), "figure_path": f"images/{c}.jpg", "reasoning_q": f"[rq{c}] Which curve is highest?", "reasoning_q_source": 1,
             "reasoning_a": "A", **{f"descriptive_q{i}": t for i, t in enumerate((1, 2, 18, 19), start=1)},
             **{f"descriptive_a{i}": f"g{c}{i}" for i in range(1, 5)}, "subplot_loc": "[0, 0]", "category": "cs", "year": "2023"}
            for c in range(2)]  # fmt: skip
    folder = tmp_path / "tasks"
    data = write_parquet(folder / "data" / "validation.parquet", rows, CHARXIV_FEATURES)
    for task in ("charxiv_val_reasoning", "charxiv_val_descriptive"):
        user_task(folder, task, f"charxiv/{task}.yaml", "validation", data)
    model = {"[rq0]": "[ra0] A", "[rq1]": "[ra1] B", "its title?": "[title] Fixture", "x-axis?": "[xlabel] time",
             "layout of the subplots": "[layout] 1 by 1", "number of subplots": "[count] 1"}
    grade = json.dumps
    judge = {"[ra0]": grade({"extracted_answer": "A", "score": 1}), "[ra1]": grade({"extracted_answer": "B", "score": 0}),
             "[title]": grade({"extract_answer_T1": "Fixture", "score_T1": 1, "extract_answer_T2": "Fixture", "score_T2": 0}),
             "[xlabel]": grade({"extract_answer_T1": "time", "score_T1": 1, "extract_answer_T2": "time", "score_T2": 7}),  # out of {0, 1}
             "[layout]": grade({"extract_answer_T1": "1 by 1", "score_T1": 1, "extract_answer_T2": "1 by 1", "score_T2": 1}),
             "[count]": "not json at all"}  # fmt: skip
    run = run_judged(tmp_path, "charxiv", folder, model, judge)
    assert run.code == 0
    assert run.scores("charxiv_val_reasoning")["charxiv_reasoning_acc,none"] == 50.0
    descriptive = run.scores("charxiv_val_descriptive")
    assert descriptive["charxiv_descriptive_acc,none"] == pytest.approx(100 * 3 / 8)  # title 1 of 2, x-label 0 (invalid), layout 2, count 0 (unparsable)
    assert descriptive["charxiv_grading,none"] == {"score_1": 3, "score_0": 1, "failed": 4}
    assert judge_entry(run, "charxiv_val_descriptive")["calls"] == 4 and judge_entry(run, "charxiv_val_reasoning")["calls"] == 2


# --- ActivityNet-QA (video) -------------------------------------------------------------------


@pytest.fixture
def hf_home(tmp_path, monkeypatch):
    """$HF_HOME (where the video zip is extracted), the frame cache and the datasets cache in the test's folder."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "datasets_cache"))
    return home


def clips(folder, names):
    from lmms_eval.testing.videos import write_test_video

    folder.mkdir(parents=True, exist_ok=True)
    return {name: write_test_video(folder / f"{name}.mp4", seconds=2.0, fps=10, width=32, height=24) for name in names}


def test_activitynetqa(tmp_path, hf_home):
    from lmms_eval.testing.video_repo import write_dataset_repo, write_zip

    rows = [{"video_name": f"clip{n % 2}", "question_id": f"v_clip{n % 2}_{n}", "question": f"[aq{n}] what is shown", "answer": "a ball", "type": "0"}
            for n in range(3)]  # fmt: skip
    features = datasets.Features({name: TEXT for name in ("video_name", "question_id", "question", "answer", "type")})
    repo = write_dataset_repo(tmp_path / "activitynetqa", "default", {"test": rows}, features)
    videos = clips(tmp_path / "src", ["v_clip0", "v_clip1"])
    write_zip(repo / "videos_chunked_01.zip", {f"all_test/{name}.mp4": path for name, path in videos.items()})
    folder = tmp_path / "tasks"
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "activitynetqa.yaml").write_text(
        f"include: activitynetqa/activitynetqa.yaml\ntask: activitynetqa\ndataset_path: {repo}\ndataset_kwargs:\n  video: true\n  cache_dir: activitynetqa\n"
    )
    model = {f"[aq{n}]": f"[ap{n}] a ball" for n in range(3)}
    judge = {"[ap0]": "{'pred': 'yes', 'score': 5}", "[ap1]": "{'pred': 'yes', 'score': 9}", "[ap2]": "no idea"}  # clamped; unparsable
    run = run_judged(tmp_path, "activitynetqa", folder, model, judge)
    assert run.code == 0
    scores = run.scores("activitynetqa")
    assert scores["gpt_eval_accuracy,none"] == pytest.approx(200 / 3)
    assert scores["gpt_eval_score,none"] == pytest.approx(10 / 3)
    assert scores["activitynetqa_reviews,none"] == {"ok": 1, "out_of_range": 1, "unparsable": 1, "judge_failed": 0}
    assert (hf_home / "activitynetqa" / "all_test" / "v_clip1.mp4").exists()
    assert judge_entry(run, "activitynetqa")["max_tokens"] == 64


def test_hallusion_bench_rejudged_by_rescore(tmp_path):
    """`rescore --judge_model` re-judges the logged answers with another judge, without the model."""
    import json

    from lmms_eval.cli.main import main
    from lmms_eval.testing.server import OracleServer

    run, folder, _model = run_hallusion_bench(tmp_path)
    assert run.code == 0 and run.scores("hallusion_bench_image")["aAcc,none"] == 50.0
    with OracleServer(model_name="judge-b", canned={"Prediction answer:": "correct"}) as other:
        judge_args = f"base_url={other.base_url},model=judge-b,max_retries=0"
        code = main(["rescore", str(run.output), "--include_path", str(folder), "--output_path", str(tmp_path / "rescored"),
                     "--judge_model", "openai_compatible", "--judge_args", judge_args])  # fmt: skip
        asked = other.chat_requests
    assert code == 0 and asked == 4
    [path] = list((tmp_path / "rescored").glob("**/*_results.json"))
    results = json.loads(path.read_text())
    assert results["results"]["hallusion_bench_image"]["aAcc,none"] == 100.0
    assert results["judges"]["hallusion_bench_image"]["model"] == "judge-b"
