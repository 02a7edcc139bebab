"""What to install when task code imports a module that is not there.

Task folders written for lmms-eval import third-party packages at module level (OpenCV,
NLTK, SciPy, ...). When one is missing, the task is broken with a reason that names the
package to install, not just Python's "No module named 'cv2'".
"""

from __future__ import annotations

import functools
import re

# Import name -> distribution name, where the two differ or the usual one is not obvious.
# Names not listed are assumed to install under their import name.
PIP_NAMES = {
    "cv2": "opencv-python-headless",
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "Levenshtein": "levenshtein",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "decord": "decord",
    "soundfile": "soundfile",
    "rouge": "rouge",
    "rouge_score": "rouge-score",
    "pycocotools": "pycocotools",
    "pycocoevalcap": "pycocoevalcap",
    "latex2sympy2": "latex2sympy2",
    "latex2sympy2_extended": "latex2sympy2-extended",
    "math_verify": "math-verify",
    "pdf2image": "pdf2image",
    "spacy": "spacy",
    "evaluate": "evaluate",
    "zss": "zss",
    "pylatexenc": "pylatexenc",
    "word2number": "word2number",
    "editdistance": "editdistance",
    "rapidfuzz": "rapidfuzz",
    "more_itertools": "more-itertools",
    "immutabledict": "immutabledict",
    "langdetect": "langdetect",
    "jieba": "jieba",
    "zhconv": "zhconv",
    "opencc": "opencc-python-reimplemented",
    "google": "google-genai",
    "azure": "azure-identity",
    "dotenv": "python-dotenv",
    "fitz": "pymupdf",
    "Bio": "biopython",
    "docx": "python-docx",
    "jiwer": "jiwer",
    "librosa": "librosa",
    "av": "av",
    "timm": "timm",
    "einops": "einops",
}

TASKS_EXTRA = "tasks"


def install_hint(module: str) -> str:
    """`needs the 'cv2' module: pip install opencv-python-headless (or uv sync --extra tasks)`."""
    top = module.split(".")[0]
    package = PIP_NAMES.get(top, top)
    extra = f" (or uv sync --extra {TASKS_EXTRA})" if _normalise(package) in _packages_in_extra() else ""
    return f"needs the '{top}' module: pip install {package}{extra}"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _packages_in_extra() -> frozenset[str]:
    """The distributions this project's `tasks` extra installs, read from its own metadata
    (so the hint never promises a package the extra does not have)."""
    from importlib import metadata  # only when a hint is written: `--tasks list` needs none

    try:
        requirements = metadata.requires("lmms-eval") or []
    except metadata.PackageNotFoundError:
        return frozenset()
    names = set()
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if re.search(rf"""extra\s*==\s*["']{TASKS_EXTRA}["']""", marker):
            names.add(_normalise(re.split(r"[\s<>=!~\[(]", spec.strip(), maxsplit=1)[0]))
    return frozenset(names)
