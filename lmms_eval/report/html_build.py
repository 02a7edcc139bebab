"""Gathering what the HTML report shows: from a finished evaluation, or from files on disk."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from lmms_eval.errors import OutputError
from lmms_eval.report.html import ReportRun, Thumbnails

logger = logging.getLogger(__name__)
FRAME_BYTES_GUESS = 2048  # a 96-pixel JPEG frame is about this size: less room left, no video is decoded


def run_from_evaluation(evaluation: Any, redact: Any) -> tuple[ReportRun, Thumbnails]:
    """The run as its files will hold it (redacted the same way), plus image thumbnails."""
    from lmms_eval.report.files import to_json_text
    from lmms_eval.report.results import build_results
    from lmms_eval.report.samples import sample_rows

    results = json.loads(to_json_text(build_results(evaluation), redact))
    samples = {}
    thumbnails = Thumbnails()
    for name, task_run in evaluation.task_runs.items():
        rows = sample_rows(task_run, evaluation.run.model, evaluation.model_identity)
        samples[name] = json.loads(to_json_text(rows, redact, indent=None))
        if evaluation.source == "live":  # a rescore has no docs loaded: digests only
            _add_thumbnails(task_run, thumbnails)
    return ReportRun(label=_label(results), results=results, samples=samples), thumbnails


def _add_thumbnails(task_run: Any, thumbnails: Thumbnails) -> None:
    """Each sample's media by the digest its logged prompt names: image thumbnails, the
    frames a video was sent as (sampled again with the task's recorded spec; the frame cache
    usually has them), audio as a short WAV. The task's docs are already loaded; a task whose
    media cannot be rebuilt shows digests only."""
    from lmms_eval.api.media import media_digest

    task = task_run.task
    sampling = task_run.answered.video_sampling  # the spec its videos were sent with, or None
    try:
        docs = task.eval_docs()
        for sample in task_run.samples:
            for visual in task.visuals(docs[sample.doc_id], sample.doc_id):
                if thumbnails.full:  # the rest would only be decoded to be left out
                    thumbnails.skipped += 1
                    return
                _add_one(thumbnails, media_digest(visual), visual, sampling)
    except Exception as error:  # noqa: BLE001 - thumbnails are a convenience; the report is still written
        logger.warning("report: no thumbnails for task %s (%s: %s)", task.name, type(error).__name__, error)


def _add_one(thumbnails: Thumbnails, digest: str, visual: Any, sampling: dict[str, Any] | None) -> None:
    import os

    from lmms_eval.media.audio import is_audio_value

    if is_audio_value(visual):
        if isinstance(visual.get("path"), str):
            thumbnails.references[digest] = visual["path"]
        if digest in thumbnails.urls:
            return
        if not thumbnails.fits(_wav_size_estimate(visual)):  # known before resampling: skip the work
            thumbnails.skipped += 1
            return
        thumbnails.add_audio(digest, _short_wav(visual))
    elif isinstance(visual, (str, os.PathLike)):
        thumbnails.references[digest] = os.fspath(visual)
        if sampling is None:  # the model was sent no frames (or the video whole)
            return
        if digest in thumbnails.frame_keys or not thumbnails.fits(FRAME_BYTES_GUESS):
            return  # already shown, or no room for even one frame: not worth decoding
        thumbnails.add_frames(digest, _sent_frames(visual, sampling))
    else:
        thumbnails.add(digest, visual)


def _sent_frames(video: Any, sampling: dict[str, Any]) -> list[Any]:
    """The frames the model was sent: read from the frame cache when the run filled it, else
    decoded again (the same spec picks the same frames); nothing is written to the cache."""
    from PIL import Image

    from lmms_eval.media.frame_cache import FrameCache
    from lmms_eval.media.sampling import VideoSampling
    from lmms_eval.media.video import decode_video

    spec = VideoSampling(**sampling)
    decoded = FrameCache().get(video, spec) or decode_video(video, spec)
    return [Image.fromarray(frame) for frame in decoded.frames]


def _wav_size_estimate(audio: dict[str, Any]) -> int:
    """Bytes of the short WAV of a decoded clip (0 when undecoded: only decoding tells)."""
    from lmms_eval.report.html import AUDIO_RATE, AUDIO_SECONDS

    array, rate = audio.get("array"), audio.get("sampling_rate")
    if array is None or not rate:
        return 0
    seconds = min(len(array) / float(rate), AUDIO_SECONDS)
    return 44 + 2 * int(seconds * AUDIO_RATE)


def _short_wav(audio: Any) -> bytes:
    """The clip's first AUDIO_SECONDS at AUDIO_RATE, as 16-bit PCM WAV."""
    import io

    import soundfile

    from lmms_eval.media.audio import load_audio
    from lmms_eval.report.html import AUDIO_RATE, AUDIO_SECONDS

    waveform = load_audio(audio, AUDIO_RATE)
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform.array[: AUDIO_RATE * AUDIO_SECONDS], AUDIO_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _label(results: dict[str, Any]) -> str:
    return f"{results.get('model_name', '?')} @ {results.get('date', '?')}"


def run_from_files(path: Path) -> ReportRun:
    """A run from its `<stamp>_results.json` (or the newest one under a folder) and the
    `<stamp>_samples_*.jsonl` files beside it."""
    results_path = results_file(path)
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OutputError(f"{results_path}: not a readable results JSON ({error})") from None
    if not isinstance(results, dict) or "results" not in results:
        raise OutputError(f"{results_path}: not a results JSON (no 'results' key)")
    stamp = results_path.name[: -len("_results.json")]
    samples: dict[str, list[dict[str, Any]]] = {}
    for samples_path in sorted(results_path.parent.glob(f"{stamp}_samples_*.jsonl")):
        for number, line in enumerate(samples_path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise OutputError(f"{samples_path}:{number}: not a JSON line") from None
            samples.setdefault(str(row.get("task", samples_path.stem)), []).append(row)
    return ReportRun(label=_label(results), results=results, samples=samples)


def results_file(path: Path) -> Path:
    if path.is_file():
        if not path.name.endswith("_results.json"):
            raise OutputError(f"{path}: expected a <stamp>_results.json file or a folder holding one")
        return path
    if path.is_dir():
        found = sorted(path.rglob("*_results.json"))
        if not found:
            raise OutputError(f"{path}: no *_results.json file in this folder")
        return found[-1]  # stamps sort by time
    raise OutputError(f"{path}: no such file or folder")


def report_path_for(results_path: Path) -> Path:
    return results_path.with_name(results_path.name[: -len("_results.json")] + "_report.html")
