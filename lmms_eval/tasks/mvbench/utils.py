"""MVBench: 20 video multiple-choice tasks; per task, accuracy over the answered questions.

Each task's videos live in its own folder of the dataset repo (revision `video`), which
lmms-eval links or extracts to `$HF_HOME/mvbench_video`. The `video` column names the file
(or, for episodic_reasoning, the folder of 3 fps frames) inside that folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import yaml_cache_dir
from lmms_eval.tasks._common.video_mcq import OPTION_LETTERS, cached_video, lettered

# dataset_kwargs.cache_dir of the YAML, read from it as lmms-eval task files do.
CACHE_DIR = yaml_cache_dir(Path(__file__).with_name("_default_template_yaml")) or ""

# Each task's folder inside the repo, as lmms-eval lays it out.
VIDEO_FOLDERS = {
    "action_sequence": "star/Charades_segment",
    "action_prediction": "star/Charades_segment",
    "action_antonym": "ssv2_video_mp4",
    "fine_grained_action": "Moments_in_Time_Raw/videos",
    "unexpected_action": "FunQA_test/test",
    "object_existence": "clevrer/video_validation",
    "object_interaction": "star/Charades_segment",
    "object_shuffle": "perception/videos",
    "moving_direction": "clevrer/video_validation",
    "action_localization": "sta/sta_video_segment",
    "scene_transition": "scene_qa/video",
    "action_count": "perception/videos",
    "moving_count": "clevrer/video_validation",
    "moving_attribute": "clevrer/video_validation",
    "state_change": "perception/videos",
    "fine_grained_pose": "nturgbd_convert",
    "character_order": "perception/videos",
    "egocentric_navigation": "vlnqa",
    "episodic_reasoning": "tvqa/video_fps3_hq_segment",  # frame folders
    "counterfactual_inference": "clevrer/video_validation",
}
# Older copies of the repo keep the STAR and CLEVRER clips under data0613/.
_LEGACY_PREFIX = "data0613"


def _visual_in(task: str) -> Callable[[dict[str, Any]], list[str]]:
    folder = VIDEO_FOLDERS[task]

    def doc_to_visual(doc: dict[str, Any]) -> list[str]:
        return [cached_video(doc["video"], CACHE_DIR, (folder, f"{_LEGACY_PREFIX}/{folder}"))]

    doc_to_visual.__name__ = f"doc_to_visual_{task}"
    return doc_to_visual


# One per task (a task YAML names its own): the doc does not say which task it belongs to.
doc_to_visual_action_sequence = _visual_in("action_sequence")
doc_to_visual_action_prediction = _visual_in("action_prediction")
doc_to_visual_action_antonym = _visual_in("action_antonym")
doc_to_visual_fine_grained_action = _visual_in("fine_grained_action")
doc_to_visual_unexpected_action = _visual_in("unexpected_action")
doc_to_visual_object_existence = _visual_in("object_existence")
doc_to_visual_object_interaction = _visual_in("object_interaction")
doc_to_visual_object_shuffle = _visual_in("object_shuffle")
doc_to_visual_moving_direction = _visual_in("moving_direction")
doc_to_visual_action_localization = _visual_in("action_localization")
doc_to_visual_scene_transition = _visual_in("scene_transition")
doc_to_visual_action_count = _visual_in("action_count")
doc_to_visual_moving_count = _visual_in("moving_count")
doc_to_visual_moving_attribute = _visual_in("moving_attribute")
doc_to_visual_state_change = _visual_in("state_change")
doc_to_visual_fine_grained_pose = _visual_in("fine_grained_pose")
doc_to_visual_character_order = _visual_in("character_order")
doc_to_visual_egocentric_navigation = _visual_in("egocentric_navigation")
doc_to_visual_episodic_reasoning = _visual_in("episodic_reasoning")
doc_to_visual_counterfactual_inference = _visual_in("counterfactual_inference")


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    options = "".join(line + "\n" for line in lettered(doc["candidates"], "({letter}) {option}"))
    return f"{kwargs.get('pre_prompt', '')}Question:{doc['question']}\nOption:\n{options}{kwargs.get('post_prompt', '')}"


def gold_letter(doc: dict[str, Any]) -> str:
    candidates = list(doc["candidates"])
    if doc["answer"] not in candidates:
        raise ValueError(f"answer {doc['answer']!r} is not one of the candidates {candidates}")
    return OPTION_LETTERS[candidates.index(doc["answer"])]


# --- MVBench's answer normalisation (applied to prediction and gold alike) --------------------

_OPTION_WITH_TEXT = re.compile(r"^([A-E])\.\s*(.+)$", re.IGNORECASE)
_STANDALONE_LETTER = re.compile(r"\b([A-E])\b", re.IGNORECASE)
_DIGIT_COMMA_DIGIT = re.compile(r"(\d)(,)(\d)")
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?!\d)")
# MVBench's own punctuation list: shorter than the VQA tool's (no ".", ":", "'", "*", ...).
_PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")
_PERIODS_REMOVED = 32  # the reference passes re.UNICODE (32) where re.sub takes its count


def _strip_punctuation(text: str) -> str:
    """A mark next to a space (or any mark, when the text holds a digit,digit) is deleted;
    otherwise it becomes a space. Then periods not before a digit go."""
    delete_all = _DIGIT_COMMA_DIGIT.search(text) is not None
    result = text
    for mark in _PUNCTUATION:
        touches_space = f"{mark} " in text or f" {mark}" in text
        result = result.replace(mark, "" if delete_all or touches_space else " ")
    return _PERIOD_NOT_BEFORE_DIGIT.sub("", result, count=_PERIODS_REMOVED)


def normalise_answer(text: str) -> str:
    """"B. a dog" -> "B"; otherwise the first standalone letter a-e of the cleaned text
    (any case: "there is a dog" -> "A"), or the cleaned, lower-cased text when none."""
    option = _OPTION_WITH_TEXT.match(text.strip())
    if option:
        return option.group(1).upper()
    cleaned = _strip_punctuation(text.replace("\n", " ").replace("\t", " ").strip())
    cleaned = cleaned.strip("'").strip('"').strip(")").strip("(").strip().lower()
    letter = _STANDALONE_LETTER.search(cleaned)
    return letter.group(1).upper() if letter else cleaned


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    reply = results[0] if results else ""
    gold = gold_letter(doc)
    correct = normalise_answer(reply) == normalise_answer(gold)
    return {"mvbench_accuracy": {"pred_answer": reply, "gt_answer": gold, "score": int(correct)}}


def accuracy_over_answered(records: Sequence[dict[str, Any]]) -> float:
    """Percent correct among the questions with a non-empty reply: an empty reply leaves
    the denominator (0 when every reply is empty)."""
    answered = [record for record in records if record["pred_answer"] != ""]
    return 100 * sum(record["score"] for record in answered) / len(answered) if answered else 0.0
