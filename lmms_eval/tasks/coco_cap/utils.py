"""COCO Caption tasks: prompts, per-image records and corpus-level pycocoevalcap scores.

Scoring follows the COCO caption evaluation code (pycocoevalcap): every reference and every
prediction goes through its PTB tokenizer (Stanford CoreNLP, Java), then BLEU-1..4,
METEOR 1.5 (Java), ROUGE-L and CIDEr-D are computed over the whole evaluated set at once.
`process_results` only collects, per image, what that corpus computation needs; each
metric's aggregation scores the corpus.

pycocoevalcap is imported inside the functions that use it: this module is imported when
a COCO task is built, and the package (and Java) are only needed to score.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import shutil
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

COCO2017_PROMPT = "Provide a one-sentence caption for the provided image."
KARPATHY_PROMPT = "Describe the image briefly."

# pycocoevalcap's names, prefixed as lmms-eval reports them.
BLEU_METRICS = ("coco_Bleu_1", "coco_Bleu_2", "coco_Bleu_3", "coco_Bleu_4")
METRICS = (*BLEU_METRICS, "coco_METEOR", "coco_ROUGE_L", "coco_CIDEr")

# Characters Java reads as line ends. pycocoevalcap writes one caption per line and only
# replaces "\n"; any of these inside a caption would shift every later caption onto the
# wrong image. They become spaces, as "\n" does.
_JAVA_LINE_BREAKS = str.maketrans({"\r": " ", "\x0b": " ", "\x0c": " ", "\u2028": " ", "\u2029": " "})

Record = tuple[Any, str, tuple[str, ...]]  # (image id, prediction, references)


# --- prompts and visuals ----------------------------------------------------------------------


def _prompt(kwargs: dict[str, Any] | None, default: str) -> str:
    kwargs = kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{kwargs.get('prompt', default)}{kwargs.get('post_prompt', '')}"


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The fixed COCO 2017 instruction (the dataset's `question` field is not used)."""
    return _prompt(lmms_eval_specific_kwargs, COCO2017_PROMPT)


def karpathy_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return _prompt(lmms_eval_specific_kwargs, KARPATHY_PROMPT)


def karpathy_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    """The Karpathy split has no image column: the image is fetched from `url` (and kept on disk)."""
    return [fetch_image(doc["url"], doc.get("filename")).convert("RGB")]


def image_cache_dir() -> Path:
    """Where fetched Karpathy images are kept: $LMMS_EVAL_COCO_IMAGES, else under $HF_HOME."""
    explicit = os.environ.get("LMMS_EVAL_COCO_IMAGES")
    if explicit:
        return Path(explicit)
    hf_home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
    return Path(hf_home) / "lmms_eval" / "coco_karpathy_images"


def fetch_image(url: str, filename: str | None = None, attempts: int = 3, timeout: float = 60.0) -> Any:
    from PIL import Image

    name = Path(filename or url.rsplit("/", 1)[-1]).name
    cached = image_cache_dir() / name if name else None
    if cached is not None and cached.is_file():
        with Image.open(cached) as image:
            image.load()
            return image
    data = _download(url, attempts, timeout)
    image = Image.open(io.BytesIO(data))
    image.load()  # a truncated download fails here, before it is cached
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, cached)
    return image


def _download(url: str, attempts: int, timeout: float) -> bytes:
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - dataset URLs
                return response.read()
        except OSError as error:
            if attempt == attempts:
                raise OSError(f"cannot fetch {url} after {attempts} attempts: {error}") from error
            time.sleep(2 ** (attempt - 1))
    raise AssertionError("unreachable")


# --- targets and per-sample records -----------------------------------------------------------


def coco2017_image_id(doc: dict[str, Any]) -> int:
    """`question_id` is the image file name ("000000397133.jpg"); its stem is the COCO id."""
    stem = Path(str(doc.get("question_id", ""))).stem
    return int(stem) if stem.isdecimal() else int(doc["id"])


def karpathy_references(doc: dict[str, Any]) -> list[str]:
    """`sentences`: the reference captions (plain strings; dicts with `raw` are accepted too)."""
    return [sentence["raw"] if isinstance(sentence, dict) else str(sentence) for sentence in doc["sentences"]]


def karpathy_doc_to_target(doc: dict[str, Any]) -> list[str]:
    return karpathy_references(doc)


def _records(image_id: Any, results: Sequence[str], references: Sequence[str]) -> dict[str, dict[str, Any]]:
    references = [str(reference) for reference in references]
    if not references:
        raise ValueError(f"image {image_id} has no reference captions")
    record = {"image_id": image_id, "prediction": results[0] if results else "", "references": references}
    return {metric: record for metric in METRICS}


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, dict[str, Any]]:
    return _records(coco2017_image_id(doc), results, doc["answer"])


def karpathy_process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, dict[str, Any]]:
    return _records(int(doc["imgid"]), results, karpathy_references(doc))


def warn_if_scorer_missing(docs: Any) -> Any:
    """process_docs: warns before inference when scoring is bound to fail; docs are unchanged."""
    problem = scorer_problem()
    if problem:
        logger.warning("COCO caption scores cannot be computed here: %s", problem)
    return docs


def scorer_problem() -> str | None:
    import importlib.util

    if importlib.util.find_spec("pycocoevalcap") is None:
        return "pycocoevalcap is not installed (pip install 'lmms-eval[coco]')"
    if shutil.which("java") is None:
        return "the PTB tokenizer and METEOR need Java, and no `java` is on PATH"
    return None


# --- aggregations: one per metric ----------------------------------------------------------


def coco_bleu1(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_Bleu_1")


def coco_bleu2(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_Bleu_2")


def coco_bleu3(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_Bleu_3")


def coco_bleu4(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_Bleu_4")


def coco_meteor(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_METEOR")


def coco_rouge_l(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_ROUGE_L")


def coco_cider(values: Sequence[dict[str, Any]]) -> float:
    return corpus_score(values, "coco_CIDEr")


# --- the corpus computation ----------------------------------------------------------------


def _record(value: dict[str, Any]) -> Record:
    return (value["image_id"], str(value["prediction"]), tuple(str(reference) for reference in value["references"]))


_CORPORA: OrderedDict[tuple[Record, ...], _Corpus] = OrderedDict()
_MAX_CORPORA = 4
# More than the bootstrap draws for one metric (the framework caps custom aggregations at 100).
_KEPT_BLEU_RESAMPLES = 256


def corpus_score(values: Sequence[dict[str, Any]], metric: str) -> float:
    """One metric over the images in `values`, in their order.

    A set of images scored for the first time gets the full pycocoevalcap computation. The
    framework's bootstrap then calls the aggregation again with resamples of the same
    records (same length, drawn from them); those reuse the per-image work of the full set
    (see `_Corpus.resampled`) instead of re-running Java for each resample.
    """
    records = tuple(_record(value) for value in values)
    corpus = _CORPORA.get(records)
    if corpus is None:
        parent = _parent_of(records)
        if parent is not None:
            return parent.resampled(metric, [parent.position[record] for record in records])
        corpus = _Corpus(records)
        _CORPORA[records] = corpus
        while len(_CORPORA) > _MAX_CORPORA:
            _CORPORA.popitem(last=False)
    return corpus.score(metric)


def _parent_of(records: tuple[Record, ...]) -> _Corpus | None:
    for corpus in reversed(_CORPORA.values()):
        if len(corpus.records) == len(records) and all(record in corpus.position for record in records):
            return corpus
    return None


class _Corpus:
    """The evaluated images, tokenized once, with each metric computed on first request."""

    def __init__(self, records: tuple[Record, ...]):
        self.records = records
        self.position: dict[Record, int] = {}
        for index, record in enumerate(records):
            self.position.setdefault(record, index)
        self.scores: dict[str, float] = {}
        self._tokenized: tuple[dict[int, list[str]], dict[int, list[str]]] | None = None
        # Per-image work kept for resamples, built on the first one.
        self._per_image: dict[str, Any] = {}
        self._bleu_resamples: OrderedDict[bytes, list[float]] = OrderedDict()

    # The official computation ------------------------------------------------------------

    def tokenized(self) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        """(references, predictions) by position, through pycocoevalcap's PTBTokenizer:
        two Java runs, references then predictions, as COCOEvalCap does."""
        if self._tokenized is None:
            _require_scorer()
            from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

            references = {i: [{"caption": one_line(ref)} for ref in refs] for i, (_, _, refs) in enumerate(self.records)}
            predictions = {i: [{"caption": one_line(prediction)}] for i, (_, prediction, _) in enumerate(self.records)}
            tokenizer = PTBTokenizer()
            self._tokenized = (tokenizer.tokenize(references), tokenizer.tokenize(predictions))
        return self._tokenized

    def score(self, metric: str) -> float:
        if metric not in self.scores:
            self.scores.update(self._compute(metric))
        return self.scores[metric]

    def _compute(self, metric: str) -> dict[str, float]:
        gts, res = self.tokenized()
        if metric in BLEU_METRICS:
            from pycocoevalcap.bleu.bleu import Bleu

            bleus, _ = Bleu(4).compute_score(gts, res, verbose=0)
            return {name: float(value) for name, value in zip(BLEU_METRICS, bleus)}
        if metric == "coco_METEOR":
            # Meteor.compute_score's two steps, kept apart so resamples can reuse the first:
            # one SCORE request per image (its statistics), then one EVAL over all of them.
            return {metric: _meteor_eval(self._meteor_stats())}
        if metric == "coco_ROUGE_L":
            from pycocoevalcap.rouge.rouge import Rouge

            value, per_image = Rouge().compute_score(gts, res)
            self._per_image["rouge"] = per_image
            return {metric: float(value)}
        if metric == "coco_CIDEr":
            from pycocoevalcap.cider.cider import Cider

            value, per_image = Cider().compute_score(gts, res)
            self._per_image["cider"] = per_image
            return {metric: float(value)}
        raise KeyError(f"unknown COCO caption metric {metric!r}")

    # Resamples (for the bootstrap standard error) ---------------------------------------------

    def resampled(self, metric: str, positions: list[int]) -> float:
        """`metric` over the images at `positions` (repeats allowed), each repeat counted as
        one more image. BLEU, METEOR and ROUGE-L equal pycocoevalcap on that image list;
        CIDEr averages per-image CIDEr-D computed with the full set's document frequencies
        (re-deriving the IDF for every resample would cost a full CIDEr run each)."""
        import numpy as np

        if metric in BLEU_METRICS:
            return self._resampled_bleu(positions)[BLEU_METRICS.index(metric)]
        if metric == "coco_METEOR":
            stats = self._meteor_stats()
            return _meteor_eval([stats[i] for i in positions])
        key = {"coco_ROUGE_L": "rouge", "coco_CIDEr": "cider"}.get(metric)
        if key is None:
            raise KeyError(f"unknown COCO caption metric {metric!r}")
        if key not in self._per_image:
            self.score(metric)
        per_image = self._per_image[key]
        return float(np.mean(np.array([per_image[i] for i in positions])))

    def _resampled_bleu(self, positions: list[int]) -> list[float]:
        # BLEU-1..4 come from one computation; the bootstrap draws the same resamples for
        # each of the four metrics, so the four values are kept for the next three calls.
        import hashlib

        import numpy as np

        key = hashlib.blake2b(np.asarray(positions, dtype=np.int64).tobytes(), digest_size=16).digest()
        if key not in self._bleu_resamples:
            from pycocoevalcap.bleu.bleu_scorer import BleuScorer

            if "bleu" not in self._per_image:
                gts, res = self.tokenized()
                self._per_image["bleu"] = [BleuScorer(n=4, test=res[i][0], refs=gts[i]) for i in range(len(self.records))]
            per_image = self._per_image["bleu"]
            total = BleuScorer(n=4)
            for i in positions:
                total += per_image[i]  # the cooked n-gram statistics of image i
            bleus, _ = total.compute_score(option="closest", verbose=0)
            self._bleu_resamples[key] = [float(value) for value in bleus]
            while len(self._bleu_resamples) > _KEPT_BLEU_RESAMPLES:
                self._bleu_resamples.popitem(last=False)
        return self._bleu_resamples[key]

    def _meteor_stats(self) -> list[str]:
        """Each image's METEOR statistics, from the SCORE request `Meteor.compute_score` makes."""
        if "meteor" not in self._per_image:
            gts, res = self.tokenized()
            meteor = _meteor()
            with meteor.lock:
                self._per_image["meteor"] = [meteor._stat(res[i][0], gts[i]) for i in range(len(self.records))]
        return self._per_image["meteor"]


def one_line(caption: str) -> str:
    return caption.translate(_JAVA_LINE_BREAKS)


# --- the METEOR process --------------------------------------------------------------------

_METEOR_PROCESS: Any = None


def _meteor() -> Any:
    """One METEOR 1.5 Java process for the whole run (it loads paraphrase tables on start)."""
    global _METEOR_PROCESS
    if _METEOR_PROCESS is None or _METEOR_PROCESS.meteor_p.poll() is not None:
        _require_scorer()
        from pycocoevalcap.meteor.meteor import Meteor

        if _METEOR_PROCESS is None:
            atexit.register(_close_meteor)
        _METEOR_PROCESS = Meteor()
    return _METEOR_PROCESS


def _meteor_eval(stats: list[str]) -> float:
    """METEOR's corpus score from per-image statistics: the EVAL request that
    `Meteor.compute_score` sends after its per-image SCORE requests."""
    meteor = _meteor()
    with meteor.lock:
        process = meteor.meteor_p
        process.stdin.write(("EVAL ||| " + " ||| ".join(stats) + "\n").encode())
        process.stdin.flush()
        for _ in stats:  # one score per image, then the corpus score
            process.stdout.readline()
        return float(process.stdout.readline().strip())


def _close_meteor() -> None:
    global _METEOR_PROCESS
    meteor, _METEOR_PROCESS = _METEOR_PROCESS, None
    if meteor is not None:
        try:
            meteor.meteor_p.stdin.close()
        except OSError:
            pass
        meteor.meteor_p.kill()
        meteor.meteor_p.wait()


def _require_scorer() -> None:
    problem = scorer_problem()
    if problem:
        from lmms_eval.errors import LmmsEvalError

        raise LmmsEvalError(f"COCO caption scoring: {problem}")
