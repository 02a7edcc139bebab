"""The static HTML report: one self-contained page (no network, small inline JS).

Built from what the results and samples files hold (so `lmms-eval report` can rebuild it),
plus, at run time, thumbnails of the images the model saw (the samples log keeps only their
digests). Thumbnails share one byte budget, so a 5,000-sample task stays a few MB.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

THUMBNAIL_SIDE = 96  # pixels, longest side
THUMBNAIL_BUDGET_BYTES = 3 * 1024 * 1024  # all embedded media of one page together, as base64 text
FRAMES_SHOWN = 16  # at most this many of a video's sent frames get a thumbnail
AUDIO_RATE = 8000  # Hz: embedded audio is resampled to telephone quality...
AUDIO_SECONDS = 10  # ...and cut to its first seconds, so one clip costs about 210 KB of base64
_HISTOGRAM_BINS = 10
_SHOWN_TEXT = 2000  # characters of a prompt or answer shown per sample


@dataclass
class ReportRun:
    """One run as its files hold it: the results JSON and, per task, its sample rows."""

    label: str
    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Thumbnails:
    """Data URLs of small JPEG copies of images, by media digest, within a byte budget."""

    budget: int = THUMBNAIL_BUDGET_BYTES
    urls: dict[str, str] = field(default_factory=dict)
    used: int = 0
    skipped: int = 0  # images left out once the budget was spent
    references: dict[str, str] = field(default_factory=dict)  # digest -> a video's or audio's file path (not budgeted)
    frame_keys: dict[str, list[str]] = field(default_factory=dict)  # video digest -> the keys of its embedded frames, in order

    def add(self, digest: str, image: Any) -> None:
        if digest in self.urls:
            return
        encoded = None if self.full else _thumbnail_bytes(image)
        self._store(digest, "image/jpeg", encoded)

    def add_frames(self, digest: str, frames: list[Any]) -> None:
        """Thumbnails of a video's frames as sent, under `<digest>:<n>` (n: the frame's place in
        what was sent); at most FRAMES_SHOWN of them, spread evenly."""
        if digest in self.frame_keys:
            return
        kept = self.frame_keys[digest] = []
        for place in _spread(len(frames), FRAMES_SHOWN):
            key = f"{digest}:{place}"
            self._store(key, "image/jpeg", None if self.full else _thumbnail_bytes(frames[place]))
            if key in self.urls:
                kept.append(key)

    def add_audio(self, digest: str, wav: bytes | None) -> None:
        """A WAV clip (already cut to AUDIO_SECONDS at AUDIO_RATE), played by an <audio> element."""
        if digest not in self.urls:
            self._store(digest, "audio/wav", None if self.full else wav)

    def _store(self, key: str, mime: str, encoded: bytes | None) -> None:
        if encoded is None:
            self.skipped += int(self.full)  # not an image at all: nothing to embed, nothing skipped
            return
        url = f"data:{mime};base64," + base64.b64encode(encoded).decode("ascii")
        if self.used + len(url) > self.budget:  # counted as written in the page (base64)
            self.skipped += 1
            return
        self.used += len(url)
        self.urls[key] = url

    def fits(self, raw_bytes: int) -> bool:
        """Whether `raw_bytes` of media would still fit, as base64 (a data URL's header aside)."""
        return self.used + 4 * -(-raw_bytes // 3) + 32 <= self.budget

    @property
    def full(self) -> bool:
        return self.used >= self.budget - 1024  # no room left for even a small thumbnail


def _spread(count: int, most: int) -> list[int]:
    """Up to `most` indices of range(count), evenly spread, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def _thumbnail_bytes(image: Any) -> bytes | None:
    if not (hasattr(image, "thumbnail") and hasattr(image, "convert")):
        return None  # not a PIL image (a video path, an audio array): shown by its digest only
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


# --- sample classification ---------------------------------------------------------------


def sample_status(row: dict[str, Any]) -> str:
    """'failed' (a request failed), 'correct' / 'wrong' (first score is binary), else 'scored'."""
    if row.get("failures"):
        return "failed"
    value = first_score(row)
    if isinstance(value, bool) or value in (0, 1):
        return "correct" if value else "wrong"
    return "scored" if value is not None else "unscored"


def first_score(row: dict[str, Any]) -> Any:
    for metrics in (row.get("scores") or {}).values():
        for value in metrics.values():
            return value
    return None


# --- page ----------------------------------------------------------------------------------


def render_report(runs: list[ReportRun], thumbnails: Thumbnails | None = None) -> str:
    media = thumbnails or Thumbnails()
    body = [
        "<h1>lmms-eval report</h1>",
        _results_table(runs),
        _provenance(runs),
        _task_provenance(runs),
        _plots(runs),
        *(_sample_browser(run, task, rows, media) for run in runs for task, rows in run.samples.items()),
    ]
    if media.skipped:
        body.append(f"<p class=note>{media.skipped} images, frames or audio clips not embedded (media budget of {media.budget} bytes spent).</p>")
    shown = set(re.findall(r'data-digest="([0-9a-f]+(?::[0-9]+)?)"', "".join(body)))
    used = {digest: url for digest, url in media.urls.items() if digest in shown}
    body.append(f'<script type="application/json" id="thumbnails">{_json_for_script(used)}</script>')
    return _PAGE.format(style=_STYLE, body="\n".join(body), script=_SCRIPT)


def _json_for_script(value: Any) -> str:
    """JSON that cannot end its <script> element early."""
    return json.dumps(value).replace("<", "\\u003c")


def _results_table(runs: list[ReportRun]) -> str:
    keys: list[tuple[str, str]] = []  # (task, "metric,filter"), in first-seen order
    for run in runs:
        for task, entry in {**run.results.get("results", {}), **run.results.get("groups", {})}.items():
            for name in entry:
                if name != "alias" and "_stderr," not in name and (task, name) not in keys:
                    keys.append((task, name))
    head = "".join(f"<th>{_e(run.label)}</th>" for run in runs)
    lines = [f"<h2>Results</h2><table class=results><tr><th>Task</th><th>Metric</th><th>Filter</th>{head}</tr>"]
    for task, name in keys:
        metric, _, filter_name = name.partition(",")
        cells = "".join(f"<td>{_score_cell(run, task, metric, filter_name)}</td>" for run in runs)
        lines.append(f"<tr><td>{_e(task)}</td><td>{_e(metric)}</td><td>{_e(filter_name)}</td>{cells}</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _score_cell(run: ReportRun, task: str, metric: str, filter_name: str) -> str:
    entry = run.results.get("results", {}).get(task) or run.results.get("groups", {}).get(task) or {}
    value = entry.get(f"{metric},{filter_name}")
    if value is None:
        return ""
    stderr = entry.get(f"{metric}_stderr,{filter_name}")
    shown = _e(_number(value))
    return shown + (f" <span class=se>± {_e(_number(stderr))}</span>" if isinstance(stderr, (int, float)) else " <span class=se>(N/A)</span>")


def _provenance(runs: list[ReportRun]) -> str:
    """Model, model_args (already redacted in the files), versions, seeds, failures, per run."""
    fields = ("model", "model_args", "gen_kwargs", "limit", "num_fewshot", "random_seed", "numpy_seed", "torch_seed", "fewshot_seed")
    rows = []
    for name in fields:
        cells = "".join(f"<td>{_e(_short_json(run.results.get('config', {}).get(name)))}</td>" for run in runs)
        rows.append(f"<tr><th>{name}</th>{cells}</tr>")
    for name in ("model_name", "date", "source", "git_hash", "python_version", "package_versions", "task_hashes", "versions"):
        cells = "".join(f"<td>{_e(_short_json(run.results.get(name)))}</td>" for run in runs)
        rows.append(f"<tr><th>{name}</th>{cells}</tr>")
    failures = "".join(f"<td>{_e(_failure_summary(run.results))}</td>" for run in runs)
    rows.append(f"<tr><th>failures</th>{failures}</tr>")
    head = "".join(f"<th>{_e(run.label)}</th>" for run in runs)
    return f"<h2>Provenance</h2><table class=prov><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _task_provenance(runs: list[ReportRun]) -> str:
    """Per task and run: the dataset and its revision, the video sampling spec, the judge,
    which endpoints answered, and the failed requests. Whatever a results file lacks is left out."""
    tasks = list(dict.fromkeys(task for run in runs for task in run.results.get("results", {})))
    if not tasks:
        return ""
    head = "".join(f"<th>{_e(run.label)}</th>" for run in runs)
    rows = "".join(f"<tr><th>{_e(task)}</th>{''.join(f'<td>{task_provenance_cell(run.results, task)}</td>' for run in runs)}</tr>" for task in tasks)
    return f"<h2>Provenance per task</h2><table class=taskprov><tr><th>task</th>{head}</tr>{rows}</table>"


def task_provenance_cell(results: dict[str, Any], task: str) -> str:
    facts = [(name, value) for name, value in _task_facts(results, task) if value not in (None, {}, [], "")]
    return "".join(f"<div class=fact data-fact={name}><b>{name}:</b> {_e(_short_json(value))}</div>" for name, value in facts)


def _task_facts(results: dict[str, Any], task: str) -> list[tuple[str, Any]]:
    config = results.get("configs", {}).get(task) or {}
    dataset_kwargs = config.get("dataset_kwargs") or {}
    requests = results.get("requests", {}).get(task) or {}
    judge = results.get("judges", {}).get(task)
    return [
        ("dataset", " ".join(str(part) for part in (config.get("dataset_path"), config.get("dataset_name")) if part)),
        ("revision", dataset_kwargs.get("revision")),
        ("sampling", results.get("media_sampling", {}).get(task)),
        ("judge", _judge_summary(judge) if isinstance(judge, dict) else judge),
        ("endpoints", requests.get("endpoints")),
        ("requests", f"{requests['total']} sent, {requests.get('failed', 0)} failed" if "total" in requests else None),
        ("failure_kinds", requests.get("failure_kinds")),
    ]


def _judge_summary(judge: dict[str, Any]) -> dict[str, Any]:
    wanted = ("model", "backend", "endpoint", "prompt_template_hash", "calls", "from_store", "failures", "retries")
    return {name: judge[name] for name in wanted if judge.get(name) is not None}


def _failure_summary(results: dict[str, Any]) -> str:
    parts = []
    for task, summary in results.get("requests", {}).items():
        if summary.get("failed"):
            kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(summary.get("failure_kinds", {}).items()))
            parts.append(f"{task}: {summary['failed']} of {summary.get('total')} failed ({kinds})")
    return "; ".join(parts) or "none"


# --- plots (inline SVG) --------------------------------------------------------------------


def _plots(runs: list[ReportRun]) -> str:
    parts = []
    for run in runs:
        for task, entry in run.results.get("results", {}).items():
            for name, value in entry.items():
                if isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values()):
                    parts.append(f"<figure><figcaption>{_e(run.label)} · {_e(task)} · {_e(name)}</figcaption>{bar_chart(value)}</figure>")
        for task, rows in run.samples.items():
            for metric, values in _continuous_scores(rows).items():
                parts.append(f"<figure><figcaption>{_e(run.label)} · {_e(task)} · {_e(metric)} (histogram)</figcaption>{histogram(values)}</figure>")
    return ("<h2>Plots</h2><div class=plots>" + "".join(parts) + "</div>") if parts else ""


def _continuous_scores(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for row in rows:
        for filter_name, metrics in (row.get("scores") or {}).items():
            for metric, value in metrics.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    found.setdefault(f"{metric},{filter_name}", []).append(float(value))
    return {name: values for name, values in found.items() if any(v not in (0.0, 1.0) for v in values)}


def bar_chart(values: dict[str, float], width: int = 360) -> str:
    bar, label_width = 16, 120
    top = max([abs(v) for v in values.values()] + [1e-12])
    height = bar * len(values) + 4
    bars = []
    for index, (name, value) in enumerate(values.items()):
        length = (width - label_width - 60) * abs(value) / top
        y = index * bar + 2
        bars.append(
            f'<text x="{label_width - 4}" y="{y + 12}" text-anchor="end">{_e(str(name)[:18])}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" height="{bar - 3}"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 12}">{_e(_number(value))}</text>'
        )
    return f'<svg width="{width}" height="{height}" role="img">{"".join(bars)}</svg>'


def histogram(values: list[float], width: int = 360, height: int = 120) -> str:
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * _HISTOGRAM_BINS
    for value in values:
        counts[min(int((value - low) / span * _HISTOGRAM_BINS), _HISTOGRAM_BINS - 1)] += 1
    most = max(counts)
    column = width / _HISTOGRAM_BINS
    rects = "".join(
        f'<rect class="bar" x="{i * column:.1f}" y="{height - 16 - (height - 20) * c / most:.1f}" width="{column - 2:.1f}" height="{(height - 20) * c / most:.1f}"><title>{c}</title></rect>'
        for i, c in enumerate(counts)
    )
    axis = f'<text x="0" y="{height - 2}">{_number(low)}</text><text x="{width}" y="{height - 2}" text-anchor="end">{_number(high)}</text>'
    return f'<svg width="{width}" height="{height}" role="img">{rects}{axis}</svg>'


# --- sample browser ------------------------------------------------------------------------


def _sample_browser(run: ReportRun, task: str, rows: list[dict[str, Any]], media: Thumbnails) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        status = sample_status(row)
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    buttons = "".join(f'<button data-filter="{name}">{name}</button>' for name in ("all", "correct", "wrong", "failed"))
    sampling = run.results.get("media_sampling", {}).get(task)
    table = "".join(_sample_row(row, media, sampling) for row in rows)
    return (
        f'<section class=browser><h2>Samples: {_e(task)} <small>({_e(run.label)}; {_e(summary)})</small></h2>'
        f'<div class=controls>{buttons}<input type=search placeholder="search text"></div>'
        f"<table class=samples><tr><th>doc</th><th>prompt</th><th>answer (raw)</th><th>filtered</th><th>target</th><th>scores</th></tr>{table}</table></section>"
    )


def _sample_row(row: dict[str, Any], media: Thumbnails, sampling: Any) -> str:
    status = sample_status(row)
    failures = "".join(f"<div class=failure>{_e(f['kind'])}: {_e(str(f.get('message', ''))[:300])}</div>" for f in row.get("failures") or [])
    return (
        f'<tr class="sample {status}" data-status="{status}"><td>{_e(row.get("doc_id"))}</td>'
        f"<td>{_prompt_html(row.get('prompt'), media, sampling)}</td>"
        f"<td><pre>{_e(_clip(_short_json(row.get('resps'))))}</pre>{failures}</td>"
        f"<td><pre>{_e(_clip(_short_json(row.get('filtered_resps'))))}</pre></td>"
        f"<td><pre>{_e(_clip(_short_json(row.get('target'))))}</pre></td>"
        f"<td><pre>{_e(_short_json(row.get('scores')))}</pre></td></tr>"
    )


def _prompt_html(prompt: Any, media: Thumbnails, sampling: Any = None) -> str:
    if not isinstance(prompt, list):
        return f"<pre>{_e(_clip(str(prompt)))}</pre>"
    parts = []
    for message in prompt:
        for part in _content_parts(message):
            kind, digest = part.get("type"), str(part.get("digest", ""))
            if kind == "text":
                parts.append(f"<pre><b>{_e(message.get('role', ''))}:</b> {_e(_clip(str(part.get('text', ''))))}</pre>")
            elif kind == "video":
                parts.append(_video_html(digest, media, sampling))
            elif kind == "audio":
                parts.append(_audio_html(digest, media))
            elif digest in media.urls:
                # The data URL is written once per page (an image repeated in many samples costs its bytes once).
                parts.append(f'<img class=thumb data-digest="{_e(digest)}" alt="{_e(kind)} {_e(digest[:12])}">')
            else:
                parts.append(f"<span class=media>[{_e(kind)} {_e(digest[:12])}]</span>")
    return "".join(parts)


def _video_html(digest: str, media: Thumbnails, sampling: Any) -> str:
    """The frames as sent when the run kept them, else the video's reference and sampling spec."""
    strip = "".join(f'<img class="thumb frame" data-digest="{_e(key)}" alt="frame {_e(key.rpartition(":")[2])}">' for key in media.frame_keys.get(digest, []))
    reference = media.references.get(digest, digest[:12])
    spec = f" sampled {_e(_short_json(sampling))}" if sampling else ""
    return f'<div class=video data-video="{_e(digest)}">{strip}<span class=media>[video {_e(reference)}]{spec}</span></div>'


def _audio_html(digest: str, media: Thumbnails) -> str:
    reference = media.references.get(digest, digest[:12])
    if digest in media.urls:
        note = f"first {AUDIO_SECONDS} s at {AUDIO_RATE} Hz"
        return f'<audio controls preload=none data-digest="{_e(digest)}"></audio><span class=media>[audio {_e(reference)}; {note}]</span>'
    return f"<span class=media>[audio {_e(reference)}]</span>"


def _content_parts(message: Any) -> Iterable[dict[str, Any]]:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [part for part in content or [] if isinstance(part, dict)]


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _short_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _clip(text: str) -> str:
    return text if len(text) <= _SHOWN_TEXT else text[:_SHOWN_TEXT] + " ..."


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lmms-eval report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>{style}</style></head>
<body>
{body}
<script>{script}</script>
</body></html>
"""

_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
.se{color:#777}pre{white-space:pre-wrap;margin:0;max-width:40em;font-size:12px}
tr.correct td:first-child{border-left:4px solid #2a2}tr.wrong td:first-child{border-left:4px solid #c33}
tr.failed td:first-child{border-left:4px solid #e90}.failure{color:#b50;font-size:12px}
.thumb{display:block;max-width:96px;margin:2px 0}.video .frame{display:inline-block;margin:1px}audio{display:block;max-width:20em}.media{color:#777;font-size:12px}
.controls button{margin-right:4px}.controls button.active{font-weight:bold}.controls input{margin-left:1em}
.plots{display:flex;flex-wrap:wrap;gap:1em}svg text{font-size:11px}.bar{fill:#4a7bd0}.note{color:#777}
"""

# Filters and search: each browser section hides the rows that fail either test.
_SCRIPT = """
var thumbnails=JSON.parse(document.getElementById('thumbnails').textContent);
document.querySelectorAll('img[data-digest],audio[data-digest]').forEach(function(el){el.src=thumbnails[el.dataset.digest];});
document.querySelectorAll('section.browser').forEach(function(section){
  var state={filter:'all',text:''};
  function apply(){
    section.querySelectorAll('tr.sample').forEach(function(row){
      var okFilter=state.filter==='all'||row.dataset.status===state.filter;
      var okText=!state.text||row.textContent.toLowerCase().indexOf(state.text)>=0;
      row.style.display=okFilter&&okText?'':'none';
    });
    section.querySelectorAll('button').forEach(function(b){b.classList.toggle('active',b.dataset.filter===state.filter);});
  }
  section.querySelectorAll('button').forEach(function(b){b.addEventListener('click',function(){state.filter=b.dataset.filter;apply();});});
  section.querySelector('input').addEventListener('input',function(e){state.text=e.target.value.toLowerCase();apply();});
  apply();
});
"""
