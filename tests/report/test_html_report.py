"""The HTML report: written beside every run's results, rebuilt by `lmms-eval report`,
and working in a real headless Chromium (filters, thumbnails)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import COLOUR_DOCS, UTILS_PY, write, write_image_parquet

from lmms_eval.cli.main import main
from lmms_eval.report.html import ReportRun, Thumbnails, bar_chart, histogram, render_report, sample_status

SECRET = "sk-report-secret-value-1234"
IMAGE_SIDE = 200  # the thumbnails are cut to 96 pixels


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def big_image_task(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    write_image_parquet(folder / "data" / "test.parquet", COLOUR_DOCS, size=IMAGE_SIDE)
    write(folder / "utils.py", UTILS_PY)
    write(
        folder / "colours.yaml",
        """
        task: colours
        dataset_path: parquet
        dataset_kwargs:
          data_files:
            test: data/test.parquet
        test_split: test
        doc_to_visual: !function utils.doc_to_visual
        doc_to_text: !function utils.doc_to_text
        doc_to_target: answer
        generation_kwargs:
          max_new_tokens: 16
        metric_list:
          - metric: exact_match
            aggregation: mean
            higher_is_better: true
        """,
    )
    return folder


def run_colours(oracle, task_folder: Path, output: Path) -> Path:
    args = f"base_url={oracle.base_url},model=colour-oracle,api_key={SECRET},retry_base_delay=0.01"
    code = main(["--model", "openai", "--model_args", args, "--tasks", "colours", "--include_path", str(task_folder),
                 "--output_path", str(output), "--log_samples"])
    assert code == 0
    [report] = list(output.glob("*/*_report.html"))
    return report


def test_every_run_writes_a_self_contained_report(oracle, big_image_task, tmp_path):
    report = run_colours(oracle, big_image_task, tmp_path / "out")
    page = report.read_text(encoding="utf-8")
    assert SECRET not in page and "&lt;redacted&gt;" in page
    assert page.count('class="sample correct"') == 7 and page.count('class="sample wrong"') == 3
    assert page.count("data:image/jpeg;base64,") == len({shown for shown, _ in COLOUR_DOCS})  # once per distinct image
    assert page.count("<img class=thumb") == 10
    assert "http://" not in page.replace(oracle.base_url, "") and "https://" not in page  # nothing fetched
    assert report.name.replace("_report.html", "_results.json") in os.listdir(report.parent)


def test_report_command_puts_runs_side_by_side(oracle, big_image_task, tmp_path, capsys):
    first = run_colours(oracle, big_image_task, tmp_path / "a")
    second = run_colours(oracle, big_image_task, tmp_path / "b")
    target = tmp_path / "both.html"
    assert main(["report", str(first.parent), str(second.parent), "--output", str(target)]) == 0
    page = target.read_text(encoding="utf-8")
    assert page.count("<section class=browser>") == 2
    header = page.split("<table class=results>")[1].split("</tr>")[0]
    assert header.count("<th>") == 5  # task, metric, filter and one column per run
    assert "0.7000" in page and SECRET not in page


def test_report_command_names_a_bad_path(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err


def test_thumbnail_budget_caps_the_page():
    from PIL import Image

    thumbnails = Thumbnails(budget=2000)
    for index in range(50):
        thumbnails.add(f"d{index}", Image.effect_noise((300, 300), 100 + index))
    assert thumbnails.used <= 2000 and thumbnails.skipped > 0
    assert "not embedded" in render_report([ReportRun("r", {"results": {}})], thumbnails)


def test_statuses_and_plots():
    assert sample_status({"failures": [{"kind": "timeout"}], "scores": {}}) == "failed"
    assert sample_status({"scores": {"none": {"acc": 1.0}}}) == "correct"
    assert sample_status({"scores": {"none": {"acc": 0}}}) == "wrong"
    assert sample_status({"scores": {"none": {"bleu": 0.4}}}) == "scored"
    assert bar_chart({"a": 0.5, "b": 1.0}).count("<rect") == 2
    assert histogram([0.1, 0.2, 0.9]).count("<rect") == 10


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=".ci/run installs Debian's chromium")
def test_report_in_a_real_browser(oracle, big_image_task, tmp_path):
    from playwright.sync_api import sync_playwright

    report = run_colours(oracle, big_image_task, tmp_path / "out")
    artifacts = Path(__file__).resolve().parents[1] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.goto(report.as_uri())
            assert page.locator("tr.sample:visible").count() == 10
            page.click("button[data-filter=wrong]")
            assert page.locator("tr.sample:visible").count() == 3
            assert page.locator("tr.sample.wrong:visible").count() == 3
            page.click("button[data-filter=correct]")
            assert page.locator("tr.sample:visible").count() == 7
            page.click("button[data-filter=all]")
            page.fill("input[type=search]", "purple")
            assert page.locator("tr.sample:visible").count() == 1
            page.fill("input[type=search]", "")
            widths = page.eval_on_selector_all("img.thumb", "images => images.map(i => [i.complete, i.naturalWidth])")
            assert widths and all(done and width == 96 for done, width in widths)
            page.screenshot(path=str(artifacts / "report.png"), full_page=True)
            shutil.copy(artifacts / "report.png", tmp_path / "report.png")
            print(f"screenshot: {artifacts / 'report.png'}")
        finally:
            browser.close()


def test_a_report_error_does_not_fail_the_run(oracle, big_image_task, tmp_path, monkeypatch, capsys):
    import lmms_eval.report.html as html_module

    def broken(*_args, **_kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(html_module, "render_report", broken)
    output = tmp_path / "out"
    args = f"base_url={oracle.base_url},model=colour-oracle,retry_base_delay=0.01"
    assert main(["--model", "openai", "--model_args", args, "--tasks", "colours", "--include_path", str(big_image_task),
                 "--output_path", str(output)]) == 0
    assert list(output.glob("*/*_results.json")) and not list(output.glob("*/*_report.html"))
    assert "report not written (ValueError: boom)" in capsys.readouterr().err


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=".ci/run installs Debian's chromium")
def test_failed_filter_shows_the_failure_reason(start_oracle, big_image_task, tmp_path):
    from playwright.sync_api import sync_playwright

    from lmms_eval.testing.server import FaultPlan

    server = start_oracle(fault=FaultPlan(status=400, every=3, failures=99))
    output = tmp_path / "out"
    args = f"base_url={server.base_url},model=colour-oracle,retry_base_delay=0.01"
    assert main(["--model", "openai", "--model_args", args, "--tasks", "colours", "--include_path", str(big_image_task),
                 "--output_path", str(output), "--log_samples"]) == 3
    [samples] = list(output.glob("*/*_samples_*.jsonl"))
    failed = sum(1 for line in samples.read_text().splitlines() if json.loads(line)["failures"])
    assert 0 < failed < 10
    [report] = list(output.glob("*/*_report.html"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.goto(report.as_uri())
            page.click("button[data-filter=failed]")
            assert page.locator("tr.sample:visible").count() == failed
            reasons = page.locator("tr.sample:visible .failure").all_inner_texts()
            assert len(reasons) == failed and all(reason.startswith("rejected: HTTP 400") for reason in reasons)
        finally:
            browser.close()


MEDIA_UTILS = '''
import numpy as np


def doc_to_visual(doc):
    tone = np.sin(np.arange(16000, dtype=np.float32) * 2 * np.pi * doc["hz"] / 16000).astype(np.float32)
    return [doc["video"], {"array": tone, "sampling_rate": 16000, "path": None}]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return "What colour is this clip?"
'''
MEDIA_TASK = """
task: clips
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 4
metric_list:
  - metric: exact_match
"""


@pytest.fixture
def media_report(oracle, tmp_path, monkeypatch) -> Path:
    """A run of a two-doc task whose requests carry a video (sent as 3 frames) and a tone."""
    from helpers import write_jsonl

    from lmms_eval.testing.videos import write_test_video

    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    folder = tmp_path / "media_tasks"
    clip = write_test_video(tmp_path / "clip.mp4", seconds=1, fps=10)
    write_jsonl(folder / "docs.jsonl", [{"video": str(clip), "hz": hz, "answer": "red"} for hz in (440, 660)])
    write(folder / "utils.py", MEDIA_UTILS)
    write(folder / "clips.yaml", MEDIA_TASK.format(data=folder / "docs.jsonl"))
    output = tmp_path / "media_out"
    args = f"base_url={oracle.base_url},model=colour-oracle,max_frames_num=3,retry_base_delay=0.01"
    assert main(["--model", "openai", "--model_args", args, "--tasks", "clips", "--include_path", str(folder),
                 "--output_path", str(output), "--log_samples"]) == 0
    [report] = list(output.glob("*/*_report.html"))
    return report


def test_video_frames_as_sent_and_audio_are_embedded(media_report):
    page = media_report.read_text(encoding="utf-8")
    assert page.count('class="thumb frame"') == 6  # 3 frames per request, two requests (one clip: its frames embedded once)
    assert page.count("data:image/jpeg;base64,") == 3 and page.count("data:audio/wav;base64,") == 2
    assert "sampled {&quot;max_frames_num&quot;: 3}" in page and "<audio controls" in page


def test_report_command_without_pixels_shows_the_video_reference_and_spec(media_report, tmp_path):
    target = tmp_path / "rebuilt.html"
    assert main(["report", str(media_report.parent), "--output", str(target)]) == 0
    page = target.read_text(encoding="utf-8")
    assert "thumb frame" not in page and "<audio controls" not in page
    assert page.count("sampled {&quot;max_frames_num&quot;: 3}") == 2 and page.count("[audio ") == 2


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=".ci/run installs Debian's chromium")
def test_video_frames_and_audio_in_a_real_browser(media_report, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.goto(media_report.as_uri())
            frames = page.eval_on_selector_all("img.frame", "images => images.map(i => [i.complete, i.naturalWidth])")
            assert len(frames) == 6 and all(done and width == 64 for done, width in frames)  # 64-pixel clip, under the 96 cap
            audio = page.eval_on_selector_all("audio", "els => els.map(a => a.src.slice(0, 15))")
            assert audio == ["data:audio/wav;"] * 2
            duration = page.evaluate("() => new Promise(done => { const a = document.querySelector('audio'); a.preload = 'metadata';"
                                     " a.onloadedmetadata = () => done(a.duration); a.onerror = () => done(-1); a.load(); })")
            assert duration == pytest.approx(1.0, abs=0.01)  # the one-second tone, decoded by the browser
        finally:
            browser.close()


def test_audio_clips_are_cut_short_and_share_the_budget():
    import base64
    import io

    import numpy as np
    import soundfile

    from lmms_eval.report.html import AUDIO_RATE, AUDIO_SECONDS
    from lmms_eval.report.html_build import _add_one

    clip = {"array": np.zeros(16000 * 12, dtype=np.float32), "sampling_rate": 16000, "path": "/data/clip.wav"}
    thumbnails = Thumbnails(budget=2 * 214_000)  # room for two 10-second clips at 8 kHz
    for index in range(5):
        _add_one(thumbnails, f"{index:064x}", clip, None)
    assert len(thumbnails.urls) == 2 and thumbnails.skipped == 3 and thumbnails.used <= thumbnails.budget
    wav = base64.b64decode(thumbnails.urls[f"{0:064x}"].split(",", 1)[1])
    samples, rate = soundfile.read(io.BytesIO(wav))
    assert rate == AUDIO_RATE and len(samples) == AUDIO_RATE * AUDIO_SECONDS
    assert thumbnails.references[f"{4:064x}"] == "/data/clip.wav"  # a clip left out is still named


def test_a_long_video_shows_at_most_sixteen_of_its_sent_frames_in_order():
    from PIL import Image

    from lmms_eval.report.html import FRAMES_SHOWN

    frames = [Image.new("RGB", (64, 48), (index * 6, 0, 0)) for index in range(40)]
    thumbnails = Thumbnails()
    thumbnails.add_frames("ab", frames)
    places = [int(key.split(":")[1]) for key in thumbnails.frame_keys["ab"]]
    assert len(places) == FRAMES_SHOWN == 16 and places[0] == 0 and places[-1] == 39 and places == sorted(places)
    tight = Thumbnails(budget=3000)  # room for about one frame
    tight.add_frames("cd", frames)
    assert len(tight.frame_keys["cd"]) < FRAMES_SHOWN and tight.skipped > 0 and tight.used <= 3000
