"""Video-MME (w/o and w/ subtitles): the official letter reading, the subtitle selection rule,
and a CLI run on a local copy of the dataset repo (zips of generated clips and SRTs)."""

from __future__ import annotations

import datasets
import pytest
from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, task_module
from video_fixtures import clips, hf_home, repo_task  # noqa: F401 - hf_home is a fixture

from lmms_eval.testing.video_repo import write_dataset_repo, write_zip

videomme = task_module("videomme")

FEATURES = datasets.Features(
    {
        name: datasets.Value("string")
        for name in ("video_id", "duration", "domain", "sub_category", "url", "videoID", "question_id", "task_type", "question")
    }
    | {"options": datasets.Sequence(datasets.Value("string")), "answer": datasets.Value("string")}
)


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("A", "A"),
        ("The answer is B", "B"),
        ("(D) a red car", "D"),
        ("Based on the video, C", "B"),  # the first capital A-D anywhere: the B of "Based"
        ("Best option: A", "B"),  # "Best option:" is not deleted (the official list lacks a comma there)
        ("The best answer is: c", ""),  # lower case is no letter
        ("the man is walking along a beach and looking at the sea for a while", ""),  # > 10 words, no A-D
        ("the man walks along a beach and looks at a sea", ""),  # 10 words, but still no A-D
    ],
)
def test_extract_letter(reply, letter):
    assert videomme.extract_letter(reply) == letter


SRT = """1
00:00:00,000 --> 00:00:00,500
<font color="white" size=".72c">hello there</font>

2
00:00:01,600 --> 00:00:01,800
<font color="white" size=".72c">between frames 15 and 19</font>

3
00:00:02,000 --> 00:00:03,000
no font tag

4
00:00:05,000 --> 00:00:06,000
<font color="white" size=".72c">first</font>

5
00:00:09,000 --> 00:00:09,850
<font color="white" size=".72c">line one
line two</font>

6
00:00:05,000 --> 00:00:06,000
<font color="white" size=".72c">second</font>

7
00:00:09,900 --> 00:00:10,000
<font color="white" size=".72c">the end</font>
"""
# 10 s at 10 fps: 100 frames; 32 sampled frames: int(i * 99 / 31) = 0, 3, 6, 9, 12, 15, 19, 22, ...,
# 51, ..., 92, 95, 99. Cue 1 spans frames [0, 5): 0 and 3 -> shown. Cue 2 [16, 18): none.
# Cue 3 [20, 30) holds 22 but has no <font> text. Cues 4 and 6 share their times: the later
# text ("second") replaces the earlier in cue 4's place. Cue 5 [90, 98): 92, lines joined by a
# space. Cue 7 [99, 100): the last frame.
SUBTITLES = "hello there\nsecond\nline one line two\nthe end"

ROWS = [
    # (video, duration, question, answer, reply): 3 of 6 right; short 2/2, medium 0/2, long 1/2
    ("vidS", "short", "What colour is the ball?", "A", "A"),
    ("vidS", "short", "How many people appear?", "B", "The answer is B"),
    ("vidM", "medium", "Where does the scene take place?", "C", "Based on the video, C"),
    ("vidM", "medium", "What does the dog do?", "A", "Best option: A"),
    ("vidL", "long", "Which tool is used first?", "D", "(D)"),
    ("vidL", "long", "Why does the man stop?", "A", "the man is walking along a beach and looking at the sea for a while"),
]


def _rows():
    for number, (video, duration, question, answer, _) in enumerate(ROWS):
        yield {
            "video_id": f"{number // 2 + 1:03d}",
            "duration": duration,
            "domain": "Knowledge",
            "sub_category": "Humanity & History",
            "url": f"https://www.youtube.com/watch?v={video}",
            "videoID": video,
            "question_id": f"{number // 2 + 1:03d}-{number % 2 + 1}",
            "task_type": "Object Recognition",
            "question": question,
            "options": [f"A. option a{number}", f"B. option b{number}", f"C. option c{number}", f"D. option d{number}"],
            "answer": answer,
        }


def test_videomme_both_tasks_through_the_cli(tmp_path, hf_home):  # noqa: F811
    repo = write_dataset_repo(tmp_path / "repo", "videomme", {"test": list(_rows())}, FEATURES)
    videos = clips(tmp_path / "src", ["vidM", "vidL"]) | clips(tmp_path / "src", ["vidS"], seconds=10, fps=10)
    write_zip(repo / "videos_chunked_01.zip", {f"data/{name}.mp4": path for name, path in videos.items()})
    write_zip(repo / "subtitle.zip", {"subtitle/vidS.srt": SRT.encode()})  # vidM and vidL have none
    folder = tmp_path / "tasks"
    flags = {"video": "true", "cache_dir": "videomme"}
    repo_task(folder, "videomme", "videomme/videomme.yaml", repo, flags, "dataset_name: videomme\n")
    repo_task(folder, "videomme_w_subtitle", "videomme/videomme_w_subtitle.yaml", repo, flags, "dataset_name: videomme\n")
    output = tmp_path / "out"
    bodies = []
    assert evaluate("videomme,videomme_w_subtitle", folder, output, {row[2]: row[4] for row in ROWS}, bodies=bodies) == 0

    results = read_results(output)["results"]
    for task in ("videomme", "videomme_w_subtitle"):
        assert results[task]["videomme_perception_score,none"] == pytest.approx(50.0)
        assert results[task]["videomme_by_duration,none"] == {"long": 50.0, "medium": 0.0, "short": 100.0}

    plain = read_samples(output, "videomme")
    assert prompt_text(plain[0]) == (
        "Select the best answer to the following multiple-choice question based on the video and the subtitles. "
        "Respond with only the letter (A, B, C, or D) of the correct option.\n"
        "What colour is the ball?\nA. option a0\nB. option b0\nC. option c0\nD. option d0\n"
        "\nAnswer with the option's letter from the given choices directly."
    )
    assert [part["type"] for part in plain[0]["prompt"][0]["content"]] == ["video", "text"]
    # the openai backend's default sampling: 10 frames of each video, sent as images
    [sent] = [body for body in bodies if "What colour is the ball?" in str(body) and "subtitles are listed" not in str(body)]
    assert [part["type"] for part in sent["messages"][-1]["content"]] == ["image_url"] * 10 + ["text"]

    subtitled = read_samples(output, "videomme_w_subtitle")
    assert prompt_text(subtitled[0]).startswith(f"This video's subtitles are listed below: \n{SUBTITLES}\nSelect the best answer")
    assert prompt_text(subtitled[0]).endswith("D. option d0\nThe best answer is:")
    assert prompt_text(subtitled[2]).startswith("This video's subtitles are listed below: \nNo subtitles available\nSelect")
    assert (hf_home / "videomme" / "data" / "vidS.mp4").exists()  # extracted by the task's video: true


def test_frame_num_changes_the_subtitles(tmp_path, hf_home):  # noqa: F811
    (hf_home / "videomme" / "subtitle").mkdir(parents=True)
    (hf_home / "videomme" / "subtitle" / "vidS.srt").write_text(SRT)
    clips(hf_home / "videomme" / "data", ["vidS"], seconds=10, fps=10)
    doc = {"videoID": "vidS"}
    # 2 frames: 0 and 99; 4 frames: 0, 33, 66, 99 (none of them in cues 4 and 5)
    assert videomme.sampled_subtitles(doc, 2) == "hello there\nthe end"
    assert videomme.sampled_subtitles(doc, 4) == "hello there\nthe end"
    # every frame: cue 2 and cue 5 too; cue 3 still has no <font> text
    assert videomme.sampled_subtitles(doc, -1) == "hello there\nbetween frames 15 and 19\nsecond\nline one line two\nthe end"


def test_an_unreadable_video_fails_its_own_doc(tmp_path, hf_home):  # noqa: F811
    from lmms_eval.taskdefs.rendering import BadDocInput

    (hf_home / "videomme" / "subtitle").mkdir(parents=True)
    (hf_home / "videomme" / "subtitle" / "gone.srt").write_text(SRT)
    with pytest.raises(BadDocInput, match="cannot read video gone to place its subtitles"):
        videomme.sampled_subtitles({"videoID": "gone"}, 32)
