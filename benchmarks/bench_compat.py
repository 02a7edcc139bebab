"""How much of lmms-eval 0.7.3's own task library works here through `--include_path`.

Fetches the lmms-eval 0.7.3 wheel from the package index (no dependencies) into
benchmarks/.cache/, unpacks only its `lmms_eval/tasks/` folder, and runs the real CLI on it:

- `lmms-eval --tasks list --include_path LIB`: the YAMLs present against those indexed;
- `lmms-eval tasks check all --include_path LIB`: ok against broken, with the most common
  reasons (grouped: a missing module by its name, other reasons with paths and quoted
  names blanked);
- the wall time of both;
- the library's own `mme` task (its mme.yaml and utils.py) run end to end on a local
  parquet in MME's schema against the local test server, its scores beside a hand
  computation of MME's rule.

The wheel's files are input data: nothing from them goes into the project.

    uv run python benchmarks/bench_compat.py [--top 5] [--keep-output]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

VERSION = "0.7.3"
CACHE = Path(__file__).resolve().parent / ".cache"
PROJECT = Path(__file__).resolve().parent.parent


def pip_command() -> list[str]:
    """pip from this interpreter, else one on PATH, else uv's (the project's venv has none)."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    return ["uvx", "pip"]


def fetch_wheel() -> Path:
    folder = CACHE / "wheels"
    existing = sorted(folder.glob(f"lmms_eval-{VERSION}-*.whl"))
    if existing:
        return existing[0]
    folder.mkdir(parents=True, exist_ok=True)
    command = [*pip_command(), "download", f"lmms-eval=={VERSION}", "--no-deps", "--quiet", "-d", str(folder)]
    fetched = subprocess.run(command, capture_output=True, text=True)
    if fetched.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{fetched.stderr}")
    return sorted(folder.glob(f"lmms_eval-{VERSION}-*.whl"))[0]


def unpack_tasks(wheel: Path) -> Path:
    """Only `lmms_eval/tasks/`, into a folder named `tasks` (as a user would copy it)."""
    target = CACHE / f"library-{VERSION}"
    library = target / "lmms_eval" / "tasks"
    if library.is_dir():
        return library
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("lmms_eval/tasks/"):
                archive.extract(name, target)
    return library


def timed(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
    return result, time.perf_counter() - start


def yaml_files(library: Path) -> list[Path]:
    return [p for p in library.rglob("*.yaml") if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(library).parts[:-1])]


def listing_counts(output: str, library: Path) -> tuple[int, int]:
    """(names defined by files of the library, broken files) from `--tasks list`."""
    names = 0
    broken = 0
    prefix = str(library.resolve())
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 3 and cells[1] in ("task", "group") and str((PROJECT / cells[2]).resolve()).startswith(prefix):
            names += 1
        elif line.startswith("broken  "):
            broken += 1
    return names, broken


def reason_group(problem: str) -> str:
    """A normalised reason: the missing module by name, else the text with paths and quoted
    names blanked (so one cause across many tasks counts once)."""
    module = re.search(r"needs the '([^']+)' module", problem)
    if module:
        return f"missing third-party module '{module.group(1)}'"
    own = re.search(r"needs (lmms_eval[\w.]*)", problem)
    if own:
        return f"missing {own.group(1)}"
    name = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", problem)
    if name:
        return f"missing {name.group(2)}.{name.group(1)}"
    variable = re.search(r"environment variable (\w+)", problem)
    if variable:
        return f"environment variable {variable.group(1)} not set"
    text = re.sub(r"(/[^\s,:'\"]+)+", "FILE", problem)
    text = re.sub(r"'[^']*'", "'…'", text)
    return text[:160]


def check_problems(output: str, total_line: str) -> list[str]:
    """Each broken line's problem (the text after the task name, or the whole line for a file)."""
    problems = []
    for line in output.splitlines():
        if line == total_line or not line.strip():
            continue
        name, sep, problem = line.partition("  ")
        problems.append(problem if sep else name)
    return problems


# The library's MME task, run end to end on a local parquet in MME's schema: two images per
# category, two questions per image; the canned replies get one question wrong in each
# category. MME's rule (score = accuracy + accuracy over images with both questions right,
# both in percent; perception and cognition sum their categories) gives, by hand:
MME_ROWS = [  # (question_id, category, question, gold, reply)
    ("a.png", "existence", "Is there a red square?", "Yes", "Yes"),
    ("a.png", "existence", "Is there a blue square?", "No", "No"),
    ("b.png", "existence", "Is there a green circle?", "Yes", "No"),
    ("b.png", "existence", "Is there a pink circle?", "No", "No"),
    ("c.png", "code_reasoning", "Does the code print 3?", "Yes", "Yes."),
    ("c.png", "code_reasoning", "Does the code print 4?", "No", "yes"),
    ("d.png", "code_reasoning", "Does the code loop?", "Yes", "Yes"),
    ("d.png", "code_reasoning", "Does the code crash?", "No", "No"),
]
MME_EXPECTED = {"mme_perception_score": 75.0 + 50.0, "mme_cognition_score": 75.0 + 50.0}


def run_library_mme(library: Path) -> None:
    """lmms-eval's own mme.yaml and utils.py, pointed at a local parquet, against the local
    test server: prints the scores its aggregation gave and the hand computation."""
    import json
    import tempfile

    import datasets
    from PIL import Image

    from lmms_eval.testing.server import OracleServer

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        rows = {"question_id": [], "image": [], "question": [], "answer": [], "category": []}
        for question_id, category, question, gold, _ in MME_ROWS:
            for key, value in zip(rows, (question_id, Image.new("RGB", (32, 32), (200, 40, 40)), question, gold, category)):
                rows[key].append(value)
        features = datasets.Features({key: datasets.Image() if key == "image" else datasets.Value("string") for key in rows})
        datasets.Dataset.from_dict(rows, features=features).to_parquet(folder / "test.parquet")
        (folder / "mme_local.yaml").write_text(
            f"include: {library / 'mme' / 'mme.yaml'}\ntask: mme_local\ndataset_path: parquet\n"
            f"dataset_kwargs:\n  data_files:\n    test: {folder / 'test.parquet'}\n"
        )
        canned = {question: reply for _, _, question, _, reply in MME_ROWS}
        with OracleServer(canned=canned) as server:
            command = ["uv", "run", "--quiet", "lmms-eval", "--model", "openai", "--model_args", f"base_url={server.base_url},model=canned",
                       "--tasks", "mme_local", "--include_path", str(folder), "--output_path", str(folder / "out"), "--verbosity", "WARNING"]
            result, seconds = timed(command)
        if result.returncode != 0:
            print(f"library mme end to end: exit {result.returncode}: {result.stderr.strip()[-600:]}")
            return
        scores = json.loads(next((folder / "out").rglob("*_results.json")).read_text())["results"]["mme_local"]
        got = {metric: scores[f"{metric},none"] for metric in MME_EXPECTED}
        verdict = "equal" if got == MME_EXPECTED else "DIFFERENT"
        print(f"library mme end to end on a local parquet ({len(MME_ROWS)} docs, its own utils.py): {got}; by hand {MME_EXPECTED}: {verdict}; {seconds:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=5, help="how many of the most common reasons to show")
    parser.add_argument("--keep-output", action="store_true", help="write both commands' output under benchmarks/.cache/")
    args = parser.parse_args()

    library = unpack_tasks(fetch_wheel())
    present = yaml_files(library)
    cli = ["uv", "run", "--quiet", "lmms-eval"]

    listing, list_seconds = timed([*cli, "--tasks", "list", "--include_path", str(library), "--verbosity", "WARNING"])
    if listing.returncode != 0:
        print(listing.stderr, file=sys.stderr)
        return 1
    names, broken_files = listing_counts(listing.stdout, library)
    indexed = len(present) - broken_files
    print(f"lmms-eval {VERSION} task library: {len(present)} YAMLs in {library}")
    print(f"--tasks list: {indexed} of {len(present)} YAMLs index ({100 * indexed / len(present):.1f}%), "
          f"{broken_files} broken; {names} task and group names from the library; {list_seconds:.2f} s")

    check, check_seconds = timed([*cli, "tasks", "check", "all", "--include_path", str(library)])
    total = check.stdout.strip().splitlines()[-1] if check.stdout.strip() else ""
    counts = re.fullmatch(r"(\d+) ok, (\d+) broken", total)
    if counts is None:
        print(f"tasks check gave no summary (exit {check.returncode}):\n{check.stderr[-2000:]}", file=sys.stderr)
        return 1
    ok, broken = int(counts.group(1)), int(counts.group(2))
    print(f"tasks check all: {ok} ok, {broken} broken of {ok + broken} ({100 * ok / (ok + broken):.1f}% ok); "
          f"exit {check.returncode}; {check_seconds:.2f} s")
    reasons = Counter(reason_group(problem) for problem in check_problems(check.stdout, total))
    print(f"most common reasons ({len(reasons)} distinct):")
    for reason, count in reasons.most_common(args.top):
        print(f"  {count:5d}  {reason}")
    run_library_mme(library)
    if args.keep_output:
        (CACHE / "list.txt").write_text(listing.stdout)
        (CACHE / "check.txt").write_text(check.stdout)
        (CACHE / "check.err").write_text(check.stderr)
        print(f"outputs in {CACHE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
