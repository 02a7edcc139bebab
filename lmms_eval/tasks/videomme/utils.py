"""Video-MME: four-option questions on YouTube videos, with or without their subtitles.

Videos are `$HF_HOME/<cache_dir>/data/<videoID>.mp4` and subtitles
`$HF_HOME/<cache_dir>/subtitle/<videoID>.srt`, extracted from the dataset repo's zips
(`dataset_kwargs: {video: true, cache_dir: videomme}`); `$LMMS_EVAL_MEDIA_ROOT` is searched
first (lmms-eval's media search).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from lmms_eval.taskdefs.rendering import BadDocInput
from lmms_eval.tasks._common.answer_prefixes import VIDEO_MME_PREFIXES, first_letter, long_without_letter, without_prefixes
from lmms_eval.tasks._common.video import find_media
from lmms_eval.tasks._common.vqa import categorised, category_means

__all__ = ["doc_to_visual", "doc_to_text", "doc_to_text_subtitle", "process_results", "extract_letter", "category_means"]

TASK_YAML = Path(__file__).with_name("videomme.yaml")
INSTRUCTION = (
    "Select the best answer to the following multiple-choice question based on the video and the subtitles. "
    "Respond with only the letter (A, B, C, or D) of the correct option."
)
SUBTITLES_INTRO = "This video's subtitles are listed below: \n"
NO_SUBTITLES = "No subtitles available"
SUBTITLE_ANSWER_CUE = "The best answer is:"
DEFAULT_POST_PROMPT = "The best answer is:"  # when the task's kwargs name none (llava_vid's)
DEFAULT_FRAME_NUM = 32
LETTERS = "ABCD"
DURATIONS = ("short", "medium", "long")
_FONT_TEXT = re.compile(r"<font[^>]*>(.*?)</font>")


def video_path(doc: dict[str, Any]) -> str:
    return find_media(doc["videoID"], TASK_YAML, ["data"])


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [video_path(doc)]


def _question_block(doc: dict[str, Any]) -> str:
    return doc["question"] + "\n" + "\n".join(str(option) for option in doc["options"])


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    post_prompt = kwargs.get("post_prompt", DEFAULT_POST_PROMPT)
    return f"{INSTRUCTION}\n{_question_block(doc)}\n{post_prompt}"


def doc_to_text_subtitle(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The subtitles shown at the sampled frames, then the question; the answer cue is fixed."""
    kwargs = lmms_eval_specific_kwargs or {}
    subtitles = sampled_subtitles(doc, int(kwargs.get("frame_num", DEFAULT_FRAME_NUM)))
    return f"{SUBTITLES_INTRO}{subtitles}\n{INSTRUCTION}\n{_question_block(doc)}\n{SUBTITLE_ANSWER_CUE}"


# --- subtitles ----------------------------------------------------------------------------------


class Cue(NamedTuple):  # a NamedTuple, not a dataclass: task files may run outside sys.modules
    start_frame: int
    end_frame: int  # exclusive
    text: str  # the cue's lines joined by spaces, font tags included


def sampled_subtitles(doc: dict[str, Any], frame_num: int) -> str:
    """lmms-eval's rule: the text of every cue whose frame span [start, end) holds one of
    `frame_num` uniformly sampled frames (all frames for -1), in cue order, one per line."""
    srt = Path(find_media(f"{doc['videoID']}.srt", TASK_YAML, ["subtitle"]))
    if not srt.is_file():
        return NO_SUBTITLES
    total_frames, fps = frame_count_and_fps(video_path(doc))
    cues = read_srt(srt.read_text(encoding="utf-8", errors="replace"), fps)
    frames = sampled_frames(total_frames, total_frames if frame_num == -1 else frame_num)
    shown = [cue for cue in cues if any(cue.start_frame <= frame < cue.end_frame for frame in frames)]
    texts = [match.group(1) for cue in shown if (match := _FONT_TEXT.search(cue.text))]
    return "\n".join(texts)


def sampled_frames(total_frames: int, count: int) -> list[int]:
    """numpy's linspace over [0, total - 1], truncated to integers (lmms-eval's indices)."""
    import numpy as np

    if total_frames < 1 or count < 1:
        return []
    return [int(index) for index in np.linspace(0, total_frames - 1, count, dtype=int)]


def read_srt(text: str, fps: float) -> list[Cue]:
    """SRT blocks (separated by blank lines) of index, "start --> end" and text lines.
    Two blocks with the same times keep the later text (lmms-eval keys cues by their times)."""
    by_times: dict[tuple[float, float], str] = {}
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.strip("\n").split("\n")
        if not block.strip() or len(lines) < 3 or " --> " not in lines[1]:
            continue
        start, end = (_seconds(stamp) for stamp in lines[1].split(" --> ", 1))
        by_times[(start, end)] = " ".join(lines[2:])
    return [Cue(int(start * fps), int(end * fps), cue_text) for (start, end), cue_text in by_times.items()]


def _seconds(stamp: str) -> float:
    """"00:01:02,500" -> 62.5."""
    clock, _, millis = stamp.strip().partition(",")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds + int(millis or 0) / 1000


@lru_cache(maxsize=256)  # three questions per video
def frame_count_and_fps(path: str) -> tuple[int, float]:
    """The container's frame count and nominal frame rate (what OpenCV reports), counted by
    demuxing when the container does not store the count."""
    import av

    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            total = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
    except Exception as error:  # noqa: BLE001 - PyAV raises many kinds; the doc fails alone, the run goes on
        raise BadDocInput(f"cannot read video {path} to place its subtitles: {error}") from error
    return int(total), float(rate) if rate else 0.0


# --- scoring ------------------------------------------------------------------------------------


def extract_letter(reply: str) -> str:
    """The official Video-MME reading: answer phrases deleted; a reply of more than ten words
    with no A-D reads nothing; else the first A-D anywhere; else nothing ("")."""
    text = without_prefixes(reply, VIDEO_MME_PREFIXES)
    if long_without_letter(text, LETTERS):
        return ""
    return first_letter(text, LETTERS) or ""


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    predicted = extract_letter(str(results[0]) if results else "")
    score = 100.0 if predicted == str(doc["answer"]).strip().upper() else 0.0
    return {"videomme_perception_score": score, "videomme_by_duration": categorised(score, [str(doc["duration"])])}
