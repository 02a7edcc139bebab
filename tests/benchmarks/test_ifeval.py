"""ifeval: instructions checked strictly and loosely (eight response variants), prompt- and
instruction-level accuracy; each checker family on hand-made cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import prompt_text, run_benchmark, task_module, user_task, write_parquet

from lmms_eval.tasks.ifeval.instructions import CHECKERS, sentences, words

KWARG_KEYS = {
    "num_words": "int64", "relation": "string", "end_phrase": "string", "forbidden_words": "strings",
    "num_highlights": "int64", "prompt_to_repeat": "string", "language": "string",
}
END = "Is there anything else I can help with?"

# (instruction ids, kwargs per instruction, reply, strict per instruction, loose per instruction)
DOCS = [
    (["punctuation:no_comma", "length_constraints:number_words"], [{}, {"num_words": 3, "relation": "at least"}],
     "Hello there my friend", [True, True], [True, True]),
    (["detectable_format:title", "startend:end_checker"], [{}, {"end_phrase": END}],
     f"*<<Poem>>*\nroses\n{END}", [True, True], [True, True]),
    (["startend:quotation"], [{}], 'Sure, here it is:\n"A quoted answer"', [False], [True]),  # loose drops the first line
    (["detectable_format:json_format", "keywords:forbidden_words"], [{}, {"forbidden_words": ["one"]}],
     '```json\n{"one": 1}\n```', [True, False], [True, False]),
    (["detectable_format:number_highlighted_sections"], [{"num_highlights": 2}], "*one* highlight only", [False], [False]),
]


def write_split(path: Path) -> None:
    import datasets

    types = {"int64": datasets.Value("int64"), "string": datasets.Value("string"), "strings": datasets.Sequence(datasets.Value("string"))}
    features = datasets.Features(
        {
            "key": datasets.Value("int64"),
            "prompt": datasets.Value("string"),
            "instruction_id_list": datasets.Sequence(datasets.Value("string")),
            "kwargs": [{key: types[kind] for key, kind in KWARG_KEYS.items()}],
        }
    )
    rows = []
    for n, (ids, kwargs, *_rest) in enumerate(DOCS, 1):
        full = [{key: given.get(key) for key in KWARG_KEYS} for given in kwargs]  # every key present, unused ones null
        rows.append({"key": 1000 + n, "prompt": f"[i{n:02d}] Write something.", "instruction_id_list": ids, "kwargs": full})
    write_parquet(path, rows, features)


def test_ifeval_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    write_split(folder / "ifeval.parquet")
    user_task(folder, "ifeval", "ifeval/ifeval.yaml", "train", "ifeval.parquet")
    canned = {f"[i{n:02d}]": reply for n, (_ids, _kwargs, reply, *_rest) in enumerate(DOCS, 1)}
    run = run_benchmark(tmp_path, "ifeval", folder, canned, capsys)

    scores = run.scores("ifeval")
    assert scores["prompt_level_strict_acc,none"] == pytest.approx(2 / 5)
    assert scores["inst_level_strict_acc,none"] == pytest.approx(5 / 8)
    assert scores["prompt_level_loose_acc,none"] == pytest.approx(3 / 5)
    assert scores["inst_level_loose_acc,none"] == pytest.approx(6 / 8)
    assert [s["scores"]["none"]["inst_level_strict_acc"] for s in run.samples] == [doc[3] for doc in DOCS]
    assert [s["scores"]["none"]["inst_level_loose_acc"] for s in run.samples] == [doc[4] for doc in DOCS]
    assert prompt_text(run.samples[0]) == "[i01] Write something."
    assert {(tuple(body.get("stop") or ()), body["max_tokens"]) for body in run.bodies} == {((), 1280)}


@pytest.mark.parametrize(
    ("instruction", "kwargs", "response", "expected"),
    [
        ("keywords:existence", {"keywords": ["cat", "dog"]}, "A Cat and a dog.", True),
        ("keywords:existence", {"keywords": ["cat"]}, "catalogue", False),  # whole words only
        ("keywords:frequency", {"keyword": "sun", "frequency": 2, "relation": "at least"}, "sun, Sun", True),
        ("keywords:frequency", {"keyword": "sun", "frequency": 2, "relation": "less than"}, "sun sun", False),
        ("keywords:forbidden_words", {"forbidden_words": ["war"]}, "peace and WAR", False),
        ("keywords:letter_frequency", {"letter": "z", "let_frequency": 3, "let_relation": "at least"}, "Zig zag z", True),
        ("language:response_language", {"language": "de"}, "Das ist ein kurzer deutscher Satz über das Wetter heute.", True),
        ("language:response_language", {"language": "de"}, "This is a plain English sentence about the weather today.", False),
        ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}, "Dr. Smith left. He came back.", True),
        ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}, "One. Two! Three?", True),
        ("length_constraints:number_words", {"num_words": 4, "relation": "less than"}, "one two three four", False),
        ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First part.\n***\nSecond part.", True),
        ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\n***\nSecond.", False),  # an empty paragraph
        ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
         "First we go.\n\nThen, we stop.", True),
        ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
         "First we go.\n\nAnd then we stop.", False),
        ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name], at [address].", True),
        ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Bye.\n\nP.S. see you", True),
        ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Bye. PPS later", False),
        ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n* two", True),
        ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n- two\n* three", False),  # exactly N
        ("detectable_format:constrained_response", {}, "Hmm. My answer is maybe.", True),
        ("detectable_format:constrained_response", {}, "Maybe.", False),
        ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*a* and **b**", True),
        ("detectable_format:number_highlighted_sections", {"num_highlights": 1}, "** ** only", False),
        ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2}, "Section 1\nx\nSection 2\ny", True),
        ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 3}, "SECTION 1\nx\nSECTION 2\ny", False),
        ("detectable_format:json_format", {}, '{"a": [1, 2]}', True),
        ("detectable_format:json_format", {}, "{'a': 1}", False),
        ("detectable_format:title", {}, "<<A Title>>\ntext", True),
        ("detectable_format:title", {}, "<<>> text", False),
        ("combination:two_responses", {}, "first answer\n******\nsecond answer", True),
        ("combination:two_responses", {}, "same\n******\nsame", False),
        ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "say hi. Hi!", True),
        ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "Hi! Say hi.", False),
        ("startend:end_checker", {"end_phrase": "Peace."}, "All done. peace.", True),
        ("startend:quotation", {}, '"quoted"', True),
        ("startend:quotation", {}, '"', False),
        ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"}, "THIS is VERY good", True),
        ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "less than"}, "THIS is VERY good", False),
        ("change_case:english_capital", {}, "THIS WHOLE ANSWER IS WRITTEN IN CAPITAL LETTERS OF ENGLISH.", True),
        ("change_case:english_capital", {}, "THIS WHOLE ANSWER IS mostly CAPITAL LETTERS.", False),
        ("change_case:english_lowercase", {}, "this whole answer is written in lower case english letters.", True),
        ("change_case:english_lowercase", {}, "This answer starts with a capital letter.", False),
        ("punctuation:no_comma", {}, "no commas here", True),
        ("punctuation:no_comma", {}, "one, two", False),
    ],
)
def test_checker(instruction, kwargs, response, expected):
    assert CHECKERS[instruction](response, **kwargs) is expected


def test_all_25_instruction_types_are_checked():
    assert len(CHECKERS) == 25


def test_falsy_kwargs_are_dropped_and_blank_responses_fail():
    utils = task_module("ifeval")
    doc = {"prompt": "p", "instruction_id_list": ["punctuation:no_comma", "keywords:existence"],
           "kwargs": [{"keywords": None, "num_words": 0}, {"keywords": ["x"], "num_words": None}]}
    assert utils.process_results(doc, ["x"])["inst_level_strict_acc"] == [True, True]
    assert utils.process_results(doc, ["  "])["inst_level_loose_acc"] == [False, False]
    assert utils.loose_variants("*a*\nb\nc") == ["*a*\nb\nc", "b\nc", "*a*\nb", "b", "a\nb\nc", "b\nc", "a\nb", "b"]


def test_words_and_sentences():
    assert words("It's 3 o'clock, Mr. Smith.") == ["It", "s", "3", "o", "clock", "Mr", "Smith"]
    assert len(sentences("Mr. Smith arrived at 3 p.m. today. He left.")) == 2
