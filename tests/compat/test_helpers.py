"""lmms-eval's helper import paths against the hand-computed examples of shared/compat.md §3."""

from __future__ import annotations

import argparse
import importlib.util
import random
from pathlib import Path

import pytest
from helpers import write

from lmms_eval.api.metrics import anls, levenshtein_distance
from lmms_eval.api.reasoning import strip_reasoning_tags
from lmms_eval.tasks._task_utils.default_template_yaml import load_default_template_yaml
from lmms_eval.tasks._task_utils.file_utils import generate_submission_file
from lmms_eval.tasks._task_utils.mcq_extract import extract_mcq_answer
from lmms_eval.tasks._task_utils.media_resolver import resolve_media_reference
from lmms_eval.tasks._task_utils.mmmu_mcq_utils import get_multi_choice_info, parse_mmmu_multi_choice_response
from lmms_eval.tasks._task_utils.point_format import parse_point2d
from lmms_eval.tasks._task_utils.vqa_eval_metric import EvalAIAnswerProcessor
from lmms_eval.utils import eval_logger, resolve_cache_dir, sanitize_model_name

# --- 3.1 generate_submission_file ----------------------------------------------------------


def test_generate_submission_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = generate_submission_file("a.json", None)
    assert path == str(tmp_path / "submissions" / "a.json")
    assert (tmp_path / "submissions").is_dir() and not Path(path).exists()
    assert generate_submission_file("c.json", argparse.Namespace(output_path="out/x")) == str(tmp_path / "out/x/submissions/c.json")
    assert generate_submission_file("d.json", argparse.Namespace(output_path="out"), subpath="sub/deep") == str(tmp_path / "out/sub/deep/d.json")
    assert generate_submission_file("x/y.json", None) == str(tmp_path / "submissions/x/y.json")
    assert not (tmp_path / "submissions" / "x").exists()
    assert generate_submission_file("", None) == str(tmp_path / "submissions")
    assert generate_submission_file("e.json", argparse.Namespace(output_path=None)) == str(tmp_path / "submissions/e.json")


def test_generate_submission_file_reads_args_by_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AttributeError):
        generate_submission_file("a.json", {"output_path": "out"})
    with pytest.raises(AttributeError):
        generate_submission_file("a.json", argparse.Namespace(model="m"))


# --- 3.2 load_default_template_yaml ----------------------------------------------------------


def test_load_default_template_yaml_drops_function_lines(tmp_path: Path) -> None:
    write(
        tmp_path / "_default_template_yaml",
        """
        dataset_path: lmms-lab/x
        process_results: !function utils.pr
        lmms_eval_specific_kwargs:
          default:
            pre_prompt: ""
            post_prompt: "Answer."  # not a !function here
        metadata:
          version: 0.1
        """,
    )
    task_file = write(tmp_path / "utils.py", "")
    assert load_default_template_yaml(str(task_file)) == {
        "dataset_path": "lmms-lab/x",
        "lmms_eval_specific_kwargs": {"default": {"pre_prompt": ""}},
        "metadata": {"version": 0.1},
    }
    sub = tmp_path / "sub"
    sub.mkdir()
    assert load_default_template_yaml(sub)["dataset_path"] == "lmms-lab/x"  # a folder means its parent


def test_load_default_template_yaml_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "_default_template_yaml").write_text("# only a comment\n")
    assert load_default_template_yaml(tmp_path / "a" / "utils.py") is None
    with pytest.raises(FileNotFoundError):
        load_default_template_yaml(tmp_path / "utils.py")


# --- 3.3 reasoning_utils (without the judge; the judge is in test_reasoning_judge.py) ---------


def test_extract_anwser_tag() -> None:
    from lmms_eval.tasks._task_utils.reasoning_utils import extract_anwser_tag

    assert extract_anwser_tag("<think>x</think><answer> 42 </answer>") == " 42 "
    assert extract_anwser_tag("\\boxed{\\frac{1}{2}} and \\boxed{3}") == "3"
    assert extract_anwser_tag("a\\boxed{x{y}z}") == "x{y}z"
    assert extract_anwser_tag("The answer is 204.") == "204"
    assert extract_anwser_tag("answer is 12 apples") == ""
    assert extract_anwser_tag("7 apples\nso it is 12\n\n") == "12"
    assert extract_anwser_tag("\\boxed{unclosed") == ""


def test_format_reward() -> None:
    from lmms_eval.tasks._task_utils.reasoning_utils import format_reward

    derivation = "Let x = 6 * 7, so we multiply (six times seven) and then we add zero, gives 42"
    assert len(derivation) == 78
    assert format_reward(derivation) == 0.8
    assert format_reward("<answer>c</answer>") == 0.0
    assert format_reward("<think>a</think><answer>c</answer> trailing") == 0.0
    assert format_reward("<think>a</think>\n<answer>c</answer>") == 1.0
    assert format_reward("<analysis>a</analysis><answer>c</answer>") == 1.0
    assert format_reward("so \\boxed{3}") == 1.0
    assert format_reward("so \\boxed{}") == 0.0


def test_compute_score() -> None:
    from lmms_eval.tasks._task_utils.reasoning_utils import compute_score

    both = compute_score("x", "<think>r</think><answer>B</answer>", "B")
    assert (both["score"], both["acc_score"], both["format_reward_score"]) == (1.0, 1.0, 1.0)
    assert both["predict_str"] == "B" and both["ground_truth"] == "B"
    assert compute_score("x", "<analysis>x</analysis><answer>B</answer>", "A")["score"] == 0.1
    assert compute_score("x", "", "A")["score"] == 0
    assert compute_score("x", "<answer>hello worl</answer>", "hello world")["acc_score"] == 1.0
    assert compute_score("x", "<answer>hello wo</answer>", "hello world")["acc_score"] == 0.0  # under 90 %
    assert compute_score("x", "<answer>The answer is (B).</answer>", "B")["acc_score"] == 1.0  # option letters
    assert compute_score("x", "<answer>b</answer>", "B")["acc_score"] == 0.0  # letters are read in upper case only
    # The older letter rule reads "Dog" as option D, so a lower-case "dog" does not match it.
    assert compute_score("x", "<answer>dog</answer>", "Dog")["acc_score"] == 0.0


def test_compute_score_symbolic_step_is_optional() -> None:
    from lmms_eval.tasks._task_utils.reasoning_utils import compute_score

    result = compute_score("x", "<answer>0.5</answer>", "\\frac{1}{2}")
    if importlib.util.find_spec("math_verify") is not None:
        assert result["score"] == 0.9 and result["acc_score"] == 1 and isinstance(result["acc_score"], int)
    else:  # skipped without math_verify: only the relaxed match counts
        assert result["score"] == 0.0 and result["acc_score"] == 0.0


def test_make_reasoning_doc_to_messages() -> None:
    from lmms_eval.tasks._task_utils.reasoning_utils import DEFAULT_REASONING_SYSTEM_PROMPT, make_reasoning_doc_to_messages

    seen = []

    def doc_to_text(doc, lmms_eval_specific_kwargs):
        seen.append(lmms_eval_specific_kwargs)
        return "What?  "

    messages = make_reasoning_doc_to_messages(lambda doc: ["IMG1", "IMG2"], doc_to_text)({"q": 1}, {"k": 1})
    assert messages == [
        {"role": "system", "content": [{"type": "text", "text": DEFAULT_REASONING_SYSTEM_PROMPT}]},
        {"role": "user", "content": [{"type": "image", "url": "IMG1"}, {"type": "image", "url": "IMG2"}, {"type": "text", "text": "What?"}]},
    ]
    assert seen == [{"k": 1}]
    assert len(DEFAULT_REASONING_SYSTEM_PROMPT) == 326
    custom = make_reasoning_doc_to_messages(lambda doc: [], doc_to_text, system_prompt="Be brief.")({})
    assert custom[0]["content"][0]["text"] == "Be brief." and seen[-1] is None


def test_make_reasoning_process_results() -> None:
    from lmms_eval.tasks._task_utils.reasoning_utils import make_reasoning_process_results

    questions = []

    def doc_to_text(doc, kwargs):
        questions.append(kwargs)
        return "Q"

    process = make_reasoning_process_results("src", doc_to_text)
    assert process({"answer": 7}, ["<answer>7</answer>", "no"]) == {"acc_score": 0.5, "format_score": 0.0}
    assert process({"answer": 7}, []) == {"acc_score": 0.0, "format_score": 0.0}
    assert questions[0] is None
    prefixed = make_reasoning_process_results("src", doc_to_text, gt_key="gt", metrics_prefix="mathvista_")
    assert prefixed({"gt": "B"}, ["  <think>r</think><answer>B</answer>  "]) == {"mathvista_acc_score": 1.0, "mathvista_format_score": 1.0}
    with pytest.raises(KeyError):
        prefixed({"answer": "B"}, ["B"])


# --- 3.4 extract_mcq_answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "choices", "expected"),
    [
        ("The correct answer is (B).", None, "B"),
        ("I think A is wrong, the answer is C", None, "C"),
        ("Option A and option B are wrong. D", None, "D"),
        ("b", None, ""),
        ("Banana", None, "B"),
        ("答案是C", None, "C"),
        ("The answer is E", ["A", "B", "C", "D"], ""),
        ("The answer is E", None, "E"),  # the default letters run to H
        ("answer: 2", ["1", "2", "3"], "2"),
        ("H", [], "H"),  # an empty list means the default
        ("", None, ""),
        ("   ", None, ""),
        (None, None, ""),
    ],
)
def test_extract_mcq_answer(response, choices, expected) -> None:
    assert extract_mcq_answer(response, choices) == expected


# --- 3.5 mmmu_mcq_utils -----------------------------------------------------------------------


def test_get_multi_choice_info() -> None:
    assert get_multi_choice_info(["cat", "dog", "fish"]) == ({"A": "cat", "B": "dog", "C": "fish"}, ["A", "B", "C"])
    assert get_multi_choice_info([]) == ({}, [])
    assert get_multi_choice_info(["x", "y"], start_chr="1") == ({"1": "x", "2": "y"}, ["1", "2"])


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("(B)", "B"),
        ("The answer is (A) not (C)", "C"),
        ("A B", "B"),
        ("A. cat", "A"),
        ("I believe the animal in the picture is a dog for sure", "B"),
        ("C.", "C"),
    ],
)
def test_parse_mmmu_multi_choice_response(response: str, expected: str) -> None:
    index2ans, all_choices = get_multi_choice_info(["cat", "dog", "fish"])
    assert parse_mmmu_multi_choice_response(response, all_choices, index2ans) == expected


def test_parse_mmmu_multi_choice_response_falls_back_to_the_global_random_state() -> None:
    index2ans, all_choices = get_multi_choice_info(["cat", "dog", "fish"])
    for response in ("cat", "(b)"):
        random.seed(3)
        expected = random.choice(all_choices)
        random.seed(3)
        assert parse_mmmu_multi_choice_response(response, all_choices, index2ans) == expected


# --- 3.6 resolve_media_reference ----------------------------------------------------------------


def test_resolve_media_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hf_home = tmp_path / "H"
    for relative in ("mydata/videos/clip1.mp4", "mydata/videos/CLIP2.MP4", "datasets/other/audio/s1.wav"):
        (hf_home / relative).parent.mkdir(parents=True, exist_ok=True)
        (hf_home / relative).write_bytes(b"")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.delenv("LMMS_EVAL_MEDIA_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    clip1 = str(hf_home / "mydata/videos/clip1.mp4")
    assert resolve_media_reference("clip1", cache_dir="mydata") == clip1
    assert resolve_media_reference("some/deep/clip1.mp4", cache_dir="mydata") == clip1
    assert resolve_media_reference("CLIP2.mp4", cache_dir="mydata") == str(hf_home / "mydata/videos/CLIP2.MP4")
    assert resolve_media_reference("missing.mp4", cache_dir="mydata") == "missing.mp4"
    assert resolve_media_reference("s1", "audio", cache_dir="other") == str(hf_home / "datasets/other/audio/s1.wav")
    assert resolve_media_reference("s1", "video", cache_dir="other") == "s1"
    assert resolve_media_reference("s1", "audio") == "s1"
    assert resolve_media_reference(123) == 123
    assert resolve_media_reference("  ") == "  "
    assert resolve_media_reference("HTTPS://x/clip1") == "HTTPS://x/clip1"
    assert resolve_media_reference(" H/mydata/videos/clip1.mp4 ") == "H/mydata/videos/clip1.mp4"  # exists as given


def test_resolve_media_reference_env_roots_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for root in ("mine", "media", "hf"):
        (tmp_path / root / "clips").mkdir(parents=True)
        (tmp_path / root / "clips" / "v.webm").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("LMMS_EVAL_MEDIA_ROOT", str(tmp_path / "media"))
    monkeypatch.setenv("MY_VIDEOS", str(tmp_path / "mine"))
    monkeypatch.setenv("EMPTY_ROOT", "")
    assert resolve_media_reference("v", env_vars=("EMPTY_ROOT", "MY_VIDEOS"), extra_subdirs=("clips",)) == str(tmp_path / "mine/clips/v.webm")
    assert resolve_media_reference("v", extra_subdirs=("clips",)) == str(tmp_path / "media/clips/v.webm")
    assert resolve_media_reference("v") == "v"  # not in a searched sub-folder


# --- 3.8 EvalAIAnswerProcessor -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two dogs.", "2 dogs"),
        ("The CAT's toy", "cat 's toy"),
        ("3,000", "3000"),
        ("a-b c/d", "b c d"),
        ("  Ten\tapples\n", "10 apples"),
        ("1.5", "1.5"),
        ("one.two", "onetwo"),
        ("", ""),
        ("." * 40 + "x", "." * 8 + "x"),  # at most 32 periods are deleted
        ("dont Im", "don't im"),  # capitalised contraction keys never match
    ],
)
def test_evalai_answer_processor(text: str, expected: str) -> None:
    assert EvalAIAnswerProcessor("ignored", any_keyword=1)(text) == expected


def test_evalai_answer_processor_members() -> None:
    processor = EvalAIAnswerProcessor()
    assert processor.CONTRACTIONS["dont"] == "don't" and len(EvalAIAnswerProcessor.CONTRACTIONS) == 120
    assert EvalAIAnswerProcessor.NUMBER_MAP["ten"] == "10" and EvalAIAnswerProcessor.ARTICLES == ["a", "an", "the"]
    assert "!" in EvalAIAnswerProcessor.PUNCTUATIONS and "." not in EvalAIAnswerProcessor.PUNCTUATIONS
    assert EvalAIAnswerProcessor.PERIOD_STRIP.sub("", "a. 1.5") == "a 1.5"
    assert EvalAIAnswerProcessor.COMMA_STRIP.search("3,0")
    assert processor.word_tokenize(" What's, up? ") == "what 's up"
    assert processor.process_punctuation("a-b") == "a b"
    assert processor.process_digit_article("The three dogs") == "3 dogs"


# --- 3.9 api.metrics ------------------------------------------------------------------------------


def test_levenshtein_distance() -> None:
    assert levenshtein_distance("kitten", "sitting") == 3
    assert levenshtein_distance("", "abc") == 3
    assert levenshtein_distance(["a", "b"], ["a", "c", "b"]) == 1


def test_anls() -> None:
    assert anls(["Hello World"], ["hello  world"]) == {"anls": 1.0}
    assert anls(["abcd", "xyz"], ["abce"]) == {"anls": 0.75}
    assert anls(["abcd"], ["ab"]) == {"anls": 0.5}  # at the threshold: kept
    assert anls([""], [""]) == {"anls": 1.0}
    assert anls(["ab"], ["ac"], 0.4) == {"anls": 0.5}
    assert anls(["abcd"], ["a"]) == {"anls": 0}
    assert anls(["ab"], [["ab", "zz"]]) == {"anls": 1.0}  # a list prediction: its first item
    with pytest.raises(ValueError):
        anls([], ["x"])


# --- 3.10 parse_point2d ----------------------------------------------------------------------------


def test_parse_point2d() -> None:
    assert parse_point2d('[{"point_2d": [500, 250]}]', 640, 480).tolist() == [[320, 120]]
    assert parse_point2d("(0.5, 0.25) and [1000,1000]", 100, 200).tolist() == [[50, 50], [100, 200]]
    assert parse_point2d("[0.5, 250]", 100, 100).tolist() == [[50, 25000]]
    assert parse_point2d("[ -10 , +20 ]", 1000, 1000).tolist() == [[-10, 20]]
    empty = parse_point2d("none", 10, 10)
    assert empty.shape == (0,)


# --- 3.11 lmms_eval.utils ----------------------------------------------------------------------------


def test_eval_logger_is_loguru() -> None:
    from loguru import logger

    assert eval_logger is logger


def test_resolve_cache_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYV", "/data/x")
    monkeypatch.delenv("UNSET_V", raising=False)
    assert resolve_cache_dir("foo", "/hf") == "/hf/foo"
    assert resolve_cache_dir("$MYV/c", "/hf") == "/data/x/c"
    assert resolve_cache_dir("foo") == "foo"
    assert resolve_cache_dir("", "/hf") == "/hf/"
    assert resolve_cache_dir("$UNSET_V/c", "/hf") == "/hf/$UNSET_V/c"
    assert resolve_cache_dir("~/c", "/hf") == str(Path.home() / "c")


def test_sanitize_model_name() -> None:
    assert sanitize_model_name("lmms-lab/llava-onevision-qwen2-0.5b") == "lmms-lab__llava-onevision-qwen2-0.5b"
    assert sanitize_model_name("/a/b/c/model") == "c__model"
    assert sanitize_model_name("/a/b/c/model", full_path=True) == "__a__b__c__model"
    assert sanitize_model_name('a/x:"y"') == "a__x__y__"


# --- 3.12 strip_reasoning_tags ----------------------------------------------------------------------


THINK_PAIRS = [["<think>", "</think>"], ["<thinking>", "</thinking>"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>abc</think> Answer: B", "Answer: B"),
        ("reasoning...</think>\nB", "B"),
        ("<think>unclosed B", "<think>unclosed B"),
        ("<THINK>x</THINK> B", "<THINK>x</THINK> B"),
        ("<think>a</think>x<think>b</think>y", "xy"),
        ("a</think>b</think>c", "c"),
        ("<thinking>long</thinking> C ", "C"),
    ],
)
def test_strip_reasoning_tags(text: str, expected: str) -> None:
    assert strip_reasoning_tags(text, THINK_PAIRS) == expected
