"""Generated inputs for the CLI's input boundary (issue 12): flags, --config files,
model_args and task YAML, random and mutated from good values.

The invariant for every input: no uncaught exception (main returns, it does not raise),
the exit code is 0, 2 or 3, and an input error (2) is exactly one line on stderr. The
runs call `main(argv)` in-process for speed; the server they would reach is a closed
port, so a valid configuration ends quickly with a one-line "cannot reach" error."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import write, write_image_parquet
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from lmms_eval.cli.args import build_parser
from lmms_eval.cli.main import main, one_line
from lmms_eval.config import RunConfig, constructor_hints, typed_model_args
from lmms_eval.errors import ConfigError, LmmsEvalError

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EXIT_CODES = {0, 2, 3}
GOOD_TASK = {
    "task": "colours",
    "dataset_path": "parquet",
    "dataset_kwargs": {"data_files": {"test": "data.parquet"}},
    "test_split": "test",
    "doc_to_visual": "image",
    "doc_to_text": "{{ question }} Answer with one word.",
    "doc_to_target": "answer",
    "generation_kwargs": {"max_new_tokens": 8, "temperature": 0},
    "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
    "metadata": {"version": 1},
}
# Flags whose fuzzing could leave the test's sandbox or change what is measured:
# --include_path (a random path may be /), --verbosity (DEBUG logs tracebacks on purpose).
UNFUZZED_FLAGS = {"--include_path", "--verbosity", "-h", "--help"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("fuzz")
    tasks = folder / "tasks"
    write_image_parquet(tasks / "data.parquet", [("red", "red"), ("blue", "blue")])
    write(tasks / "colours.yaml", yaml.safe_dump(GOOD_TASK))
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    return {"root": folder, "tasks": tasks, "base_url": base_url}


@pytest.fixture(autouse=True)
def offline(monkeypatch, sandbox):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(sandbox["root"])  # relative --output_path / --use_cache values land here


def run_main(capsys, argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:  # only --help style exits may leave argparse this way
        assert exit_.code == 0, (argv, exit_.code)
        code = 0
    out, err = capsys.readouterr()
    if currently_in_test_context():  # --hypothesis-show-statistics shows how the examples ended
        event(f"exit {code}")
    return code, out, err


PROGRESS_BAR = re.compile(r"^[^\n]*\|[^\n]*\[[^\n]*/s\]$|^Generating \w+ split: [^\n]*$")  # datasets' tqdm lines


def message_lines(err: str) -> list[str]:
    """stderr without the progress bars `datasets` draws while it first reads a file."""
    lines = [line.rsplit("\r", 1)[-1] for line in err.strip().splitlines()]
    return [line for line in lines if line.strip() and not PROGRESS_BAR.match(line)]


def assert_invariant(code: int, err: str, argv: list[str]) -> None:
    assert code in EXIT_CODES, (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        lines = message_lines(err)
        assert len(lines) == 1 and lines[0].startswith("lmms-eval: error: "), (argv, err)


# --- values: random, and mutations of good ones --------------------------------------------

SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20).filter(
    lambda text: not text.lstrip().startswith(("/", "~")) and ".." not in text
)
TRICKY = st.sampled_from([
    "", " ", "nan", "inf", "-inf", "1e400", "-1", "0", "1", "0.5", "1.5", "-0", "007", "1,2", "1,2,3,4", "1,2,3",
    "abc", "True", "none", "null", "a=b", "=", ",", "k=v,k", "temperature=hot", "max_new_tokens=ten",
    "max_new_tokens=-5", "top_p=2", "num_concurrent=abc", "num_concurrent=0", "timeout=-1", "[1, 2]", "{a: 1}",
    "99999999999999999999999", "colours", "colours,colours", "list", "é", "\t", "'", '"', "%s", "{{", "}}",
])  # fmt: skip
VALUES = st.one_of(TRICKY, SAFE_TEXT)


def fuzzable_flags() -> list[str]:
    flags = []
    for action in build_parser()._actions:  # every flag the parser declares, so new ones are fuzzed too
        flags.extend(option for option in action.option_strings if option.startswith("--"))
    return sorted(set(flags) - UNFUZZED_FLAGS)


def base_argv(sandbox: dict, model_args_extra: str = "") -> list[str]:
    model_args = f"base_url={sandbox['base_url']},model=colour-oracle,max_retries=0,timeout=2{model_args_extra}"
    return [
        "--model", "openai", "--model_args", model_args, "--tasks", "colours",
        "--include_path", str(sandbox["tasks"]), "--verbosity", "ERROR",
    ]  # fmt: skip


@st.composite
def flag_mutations(draw) -> list[str]:
    pairs = draw(st.lists(st.tuples(st.sampled_from(fuzzable_flags()), VALUES), min_size=1, max_size=4))
    argv: list[str] = []
    for flag, value in pairs:
        argv.extend([flag, value])
    if draw(st.booleans()):  # store_true flags given a stray value, flags with no value
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(fuzzable_flags())))
    return argv


@FUZZ
@given(extra=flag_mutations())
def test_any_flags_give_an_exit_code_and_one_line_errors(sandbox, capsys, extra):
    argv = base_argv(sandbox) + extra
    code, _, err = run_main(capsys, argv)
    assert_invariant(code, err, argv)


def model_arg_names() -> list[str]:
    from lmms_eval.models.api.openai_chat import OpenAIChat

    return sorted(set(constructor_hints(OpenAIChat)) - {"base_url"})  # the URL stays the closed port


MODEL_ARGS = st.dictionaries(st.one_of(st.sampled_from(model_arg_names()), st.from_regex(r"[a-z_]{1,12}", fullmatch=True)), VALUES, max_size=4)


@FUZZ
@given(args=MODEL_ARGS)
def test_any_model_args_give_an_exit_code_and_one_line_errors(sandbox, capsys, args):
    extra = "".join(f",{key}={value}" for key, value in args.items())
    argv = base_argv(sandbox, extra)
    code, _, err = run_main(capsys, argv)
    assert_invariant(code, err, argv)


@settings(max_examples=60, deadline=None)
@given(args=st.dictionaries(st.sampled_from(model_arg_names()), st.one_of(VALUES, st.integers(), st.floats(), st.booleans(), st.none()), max_size=5))
def test_model_args_are_typed_or_refused_with_a_config_error(args):
    from lmms_eval.models.api.openai_chat import OpenAIChat

    try:
        typed_model_args(OpenAIChat, args)
    except ConfigError as error:
        assert len(one_line(str(error)).splitlines()) == 1 and "--model_args" in str(error)


# --- --config files -------------------------------------------------------------------------

YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), VALUES),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(SAFE_TEXT, children, max_size=3)),
    max_leaves=6,
)
CONFIG_KEYS = st.one_of(st.sampled_from(sorted(RunConfig.keys() - {"include_path", "verbosity"})), SAFE_TEXT)


@settings(max_examples=60, deadline=None)
@given(values=st.dictionaries(CONFIG_KEYS, YAML_VALUES, max_size=5))
def test_config_values_are_typed_or_refused_with_a_config_error(values):
    try:
        RunConfig.from_layers(values, {"tasks": "colours"}, "--config runs.yaml")
    except ConfigError as error:
        assert len(one_line(str(error)).splitlines()) == 1  # as main prints it


@FUZZ
@given(values=st.dictionaries(CONFIG_KEYS, YAML_VALUES, max_size=4), as_list=st.booleans(), raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_any_config_file_gives_an_exit_code_and_one_line_errors(sandbox, capsys, values, as_list, raw):
    config = sandbox["root"] / "runs.yaml"
    if raw is not None:
        config.write_bytes(raw)
    else:
        document = {**dict.fromkeys(("include_path",), [str(sandbox["tasks"])]), "verbosity": "ERROR", **values}
        config.write_text(yaml.safe_dump([document] if as_list else document, allow_unicode=True), encoding="utf-8")
    argv = ["--config", str(config), "--model_args", f"base_url={sandbox['base_url']},model=colour-oracle,max_retries=0"]
    code, _, err = run_main(capsys, argv)
    assert_invariant(code, err, argv)


# --- task YAML ------------------------------------------------------------------------------

RAW_LINES = st.sampled_from([
    "doc_to_text: !function nowhere.doc_to_text", "doc_to_text: !function utils", "include: missing.yaml",
    "doc_to_text: '{{ question '", "doc_to_text: '{% if %}'", "task: [1, 2]", "group: colours", "output_type: ranking",
    "metric_list: [{metric: no_such_metric}]", "filter_list: [{name: x, filter: [{function: nope}]}]", "\t- x", ": :", "&a [*a]",
])  # fmt: skip


@st.composite
def mutated_task_yaml(draw) -> str:
    task = dict(GOOD_TASK)
    for key in draw(st.lists(st.sampled_from(sorted(GOOD_TASK)), max_size=2)):
        task.pop(key, None)
    task.update(draw(st.dictionaries(st.one_of(st.sampled_from(sorted(GOOD_TASK) + ["output_type", "process_docs"]), SAFE_TEXT), YAML_VALUES, max_size=3)))
    # group/tag get text or lists of text only: other values are the known defect below
    task.update(draw(st.dictionaries(st.sampled_from(["group", "tag"]), st.one_of(VALUES, st.lists(VALUES, max_size=2)), max_size=1)))
    task.setdefault("task", "colours")
    text = yaml.safe_dump(task, allow_unicode=True)
    if draw(st.booleans()):
        text += "\n".join(draw(st.lists(RAW_LINES, min_size=1, max_size=2))) + "\n"
    return text


@FUZZ
@given(text=st.one_of(mutated_task_yaml(), st.text(max_size=60)))
def test_any_task_yaml_is_checked_without_a_traceback(sandbox, capsys, text):
    folder = sandbox["root"] / "fuzzed_tasks"
    folder.mkdir(exist_ok=True)
    (folder / "data.parquet").write_bytes((sandbox["tasks"] / "data.parquet").read_bytes())
    (folder / "colours.yaml").write_text(text, encoding="utf-8")
    argv = ["tasks", "check", "colours", "--include_path", str(folder)]
    code, out, err = run_main(capsys, argv)
    assert code in {0, 2}, (text, code, out, err)
    assert "Traceback" not in out + err
    if code == 2:
        assert (out + err).strip(), text  # a broken task is named


@pytest.mark.parametrize("line", ["group: {}", "tag: [{a: 1}]"])
def test_a_mapping_as_group_or_tag_is_a_broken_task_not_a_crash(sandbox, capsys, line):
    folder = sandbox["root"] / "mapping_tag"
    folder.mkdir(exist_ok=True)
    (folder / "colours.yaml").write_text(yaml.safe_dump(GOOD_TASK) + line + "\n", encoding="utf-8")
    code, out, err = run_main(capsys, ["tasks", "check", "colours", "--include_path", str(folder)])
    assert code == 2 and "colours.yaml" in out + err


# --- a few real processes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["--limit", "1e400"], ["--seed", "1,2,3"], ["--gen_kwargs", "temperature=hot"], ["--model_args", "num_concurrent=abc"], ["--batch_size"]],
)
def test_the_installed_command_keeps_the_invariant(sandbox, argv):
    full = [*base_argv(sandbox), *argv]
    completed = subprocess.run(
        [sys.executable, "-m", "lmms_eval", *full], capture_output=True, text=True, timeout=60,
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=sandbox["root"],
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    assert_invariant(completed.returncode, completed.stderr, full)


def test_the_sandboxed_base_run_is_a_one_line_connection_error(sandbox, capsys):
    """The fuzzed runs' baseline: a valid configuration ends at the closed port, quickly."""
    code, _, err = run_main(capsys, base_argv(sandbox))
    assert code == 2 and "cannot reach" in err
    assert_invariant(code, err, base_argv(sandbox))
    assert isinstance(ConfigError("x"), LmmsEvalError)


@pytest.mark.parametrize("breaker", ["\n", "\r", "\x1e", "\u2028", "\x85"])
def test_a_line_break_inside_a_config_key_stays_inside_one_error_line(sandbox, capsys, breaker):
    """Found by the generated config files: a key holding '\\x1e' split the error in two."""
    config = sandbox["root"] / "breaks.yaml"
    config.write_text(yaml.safe_dump({f"odd{breaker}key": 1, "tasks": "colours"}), encoding="utf-8")
    code, _, err = run_main(capsys, ["--config", str(config)])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "unknown key(s) odd" in err
