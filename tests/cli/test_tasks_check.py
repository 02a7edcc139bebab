"""`lmms-eval tasks check` and `--tasks list` on a task folder in lmms-eval's style with broken
files beside good ones; a good task from it still runs end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write

from lmms_eval.cli.main import main
from lmms_eval.taskdefs.packages import install_hint

TASK_KEYS = "dataset_path: json\ntest_split: test\ndoc_to_text: question\ndoc_to_target: answer\n"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def mixed_folder(colour_task: Path) -> Path:
    """The colours task, plus one file for each way a task folder can be broken."""
    write(colour_task / "broken" / "malformed.yaml", "task: malformed\ndataset_path: [unclosed\n")
    write(colour_task / "clash" / "a_first.yaml", f"task: twice\n{TASK_KEYS}")
    write(colour_task / "clash" / "b_second.yaml", f"task: twice\n{TASK_KEYS}")
    write(colour_task / "nofn" / "utils.py", "def present(doc):\n    return 'x'\n")
    write(colour_task / "nofn" / "missing_fn.yaml", f"task: missing_fn\n{TASK_KEYS}doc_to_visual: !function utils.absent\n")
    write(colour_task / "needs_pkg" / "utils.py", "import surely_not_installed_pkg\n\ndef f(doc):\n    return []\n")
    write(colour_task / "needs_pkg" / "needs_pkg.yaml", f"task: needs_pkg\n{TASK_KEYS}doc_to_visual: !function utils.f\n")
    write(colour_task / "groups" / "g_missing.yaml", "group: g_missing\ntask: [colours, not_a_task]\n")
    return colour_task


def run(*args: object) -> int:
    return main([str(arg) for arg in args])


def broken_lines(out: str) -> dict[str, str]:
    lines = out.strip().splitlines()
    return {line.split()[0]: line for line in lines[:-1]}  # a task's name, or a broken file's "FILE:LINE:" / "FILE,"


def test_check_all_reports_each_broken_task_and_file(mixed_folder: Path, capsys) -> None:
    assert run("tasks", "check", "all", "--include_path", mixed_folder) == 2
    out = capsys.readouterr().out
    lines = broken_lines(out)
    malformed, second = mixed_folder / "broken" / "malformed.yaml", mixed_folder / "clash" / "b_second.yaml"
    assert set(lines) == {"missing_fn", "needs_pkg", "g_missing", f"{malformed}:3:", str(second) + ","}
    assert lines["missing_fn"] == (
        f"missing_fn  {mixed_folder / 'nofn' / 'missing_fn.yaml'}, key 'doc_to_visual': "
        f"'!function utils.absent': {(mixed_folder / 'nofn' / 'utils.py').resolve()} has no function 'absent'"
    )
    assert lines["needs_pkg"].endswith("failed: needs the 'surely_not_installed_pkg' module: pip install surely_not_installed_pkg")
    assert lines["g_missing"] == (
        f"g_missing  {mixed_folder / 'groups' / 'g_missing.yaml'}, key 'task': "
        "group 'g_missing' lists 'not_a_task', which is no task, group or tag"
    )
    assert lines[f"{malformed}:3:"].startswith(f"{malformed}:3: malformed YAML")
    assert lines[str(second) + ","] == f"{second}, key 'task': name 'twice' is already defined in {mixed_folder / 'clash' / 'a_first.yaml'}"
    ok, broken = map(int, re.fullmatch(r"(\d+) ok, (\d+) broken", out.strip().splitlines()[-1]).groups())
    assert broken == 5 and ok >= 3  # colours, twice, g_missing's... plus the built-in library


def test_check_named_tasks_covers_only_those(mixed_folder: Path, capsys) -> None:
    assert run("tasks", "check", "colours", "twice", "--include_path", mixed_folder) == 0
    assert capsys.readouterr().out == "2 ok, 0 broken\n"
    assert run("tasks", "check", "colours,missing_fn", "--include_path", mixed_folder) == 2
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("missing_fn  ") and out.endswith("1 ok, 1 broken\n")


def test_check_of_a_group_checks_its_members(mixed_folder: Path, capsys) -> None:
    write(mixed_folder / "groups" / "g_bad_member.yaml", "group: g_bad_member\ntask: [colours, needs_pkg]\n")
    assert run("tasks", "check", "g_bad_member", "--include_path", mixed_folder) == 2
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("needs_pkg  ") and out.endswith("1 ok, 1 broken\n")


def test_check_of_a_name_only_a_broken_file_defines(mixed_folder: Path, capsys) -> None:
    write(mixed_folder / "broken" / "bad_key.yaml", f"task: bad_key\n{TASK_KEYS}doc_to_txt: q\n")
    assert run("tasks", "check", "bad_key", "unheard_of", "--include_path", mixed_folder) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"bad_key  'bad_key' is defined only in a file that could not be read: "
        f"{mixed_folder / 'broken' / 'bad_key.yaml'}, key 'doc_to_txt': unknown key (did you mean 'doc_to_text'?)"
    )
    assert lines[1].startswith("unheard_of  unknown task, group or tag 'unheard_of'")
    assert lines[2] == "0 ok, 2 broken"


def test_check_needs_names_and_listings_take_none(capsys) -> None:
    assert run("tasks", "check") == 2
    assert "needs task, group or tag names, or `all`" in capsys.readouterr().err
    assert run("tasks", "list", "mme") == 2
    assert "takes no names" in capsys.readouterr().err


def test_builtin_library_checks_clean(capsys) -> None:
    assert run("tasks", "check", "all") == 0, capsys.readouterr().out
    assert re.fullmatch(r"\d+ ok, 0 broken\n", capsys.readouterr().out)


def test_task_list_marks_broken_files(mixed_folder: Path, capsys) -> None:
    assert run("--tasks", "list", "--include_path", mixed_folder) == 0
    captured = capsys.readouterr()
    table, _, section = captured.out.partition("\n\n")
    assert re.search(r"^colours +task +", table, re.M) and re.search(r"^twice +task +", table, re.M)
    assert "malformed" not in table
    header, *entries = section.splitlines()
    assert header.startswith("2 task files could not be read and are skipped")
    assert [entry.split()[1] for entry in entries] == [f"{mixed_folder / 'broken' / 'malformed.yaml'}:3:", f"{mixed_folder / 'clash' / 'b_second.yaml'},"]
    assert captured.err.count("skipped ") == 2  # one warning per file
    assert run("tasks", "list", "--include_path", mixed_folder) == 0
    assert "2 task files could not be read" in capsys.readouterr().out


def test_listing_is_plain_when_piped(mixed_folder: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lmms_eval", "tasks", "check", "all", "--include_path", str(mixed_folder)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    needs_pkg = next(line for line in result.stdout.splitlines() if line.startswith("needs_pkg  "))
    assert len(needs_pkg) > 200 and "\x1b" not in result.stdout  # one whole line, no colour codes


def test_good_task_runs_with_broken_files_beside_it(mixed_folder: Path, oracle, tmp_path: Path, capsys) -> None:
    output = tmp_path / "out"
    model_args = f"base_url={oracle.base_url},model=colour-oracle,retry_base_delay=0.01"
    assert run("--model", "openai", "--model_args", model_args, "--tasks", "colours", "--include_path", mixed_folder, "--output_path", output) == 0
    [results] = output.glob("*/*_results.json")
    assert json.loads(results.read_text())["results"]["colours"]["exact_match,none"] == pytest.approx(0.7)
    assert capsys.readouterr().err.count("skipped ") == 2
    assert run("--model", "openai", "--model_args", model_args, "--tasks", "missing_fn", "--include_path", mixed_folder) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("has no function 'absent'")


def test_absolute_task_folder_imports_resolve_to_the_include_path(tmp_path: Path, capsys) -> None:
    root = tmp_path / "user_tasks"
    write(root / "absfolder_x1" / "helpers.py", "def shout(doc):\n    return doc['question'].upper()\n")
    # lmms-eval task files import their own folder by absolute path.
    write(root / "absfolder_x1" / "utils.py", "from lmms_eval.tasks.absfolder_x1.helpers import shout\n\ndef text(doc):\n    return shout(doc)\n")
    write(root / "absfolder_x1" / "t_sibling.yaml", "task: t_sibling\ndataset_path: json\ntest_split: test\ndoc_to_text: !function utils.text\n")
    write(root / "absfolder_x1" / "t_dotted.yaml", "task: t_dotted\ndataset_path: json\ntest_split: test\ndoc_to_text: !function lmms_eval.tasks.absfolder_x1.utils.text\n")
    assert run("tasks", "check", "t_sibling", "t_dotted", "--include_path", root) == 0
    assert capsys.readouterr().out == "2 ok, 0 broken\n"
    import lmms_eval.tasks.absfolder_x1.utils as user_utils
    from lmms_eval.tasks._task_utils import file_utils  # the project's compatibility modules still resolve

    assert Path(user_utils.__file__) == root / "absfolder_x1" / "utils.py"
    assert user_utils.text({"question": "red?"}) == "RED?"
    assert Path(file_utils.__file__).parent.name == "_task_utils"


def test_a_folder_passed_directly_resolves_its_own_name(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "absfolder_x2"
    write(folder / "helpers.py", "VALUE = 'direct'\n")
    write(folder / "utils.py", "from lmms_eval.tasks.absfolder_x2.helpers import VALUE\n\ndef text(doc):\n    return VALUE\n")
    write(folder / "t.yaml", "task: t_direct\ndataset_path: json\ntest_split: test\ndoc_to_text: !function utils.text\n")
    assert run("tasks", "check", "t_direct", "--include_path", folder) == 0
    assert capsys.readouterr().out == "1 ok, 0 broken\n"


def test_missing_absolute_task_import_says_where_it_was_looked_for(tmp_path: Path, capsys) -> None:
    write(tmp_path / "fam" / "utils.py", "from lmms_eval.tasks.nowhere_folder.utils import x\n")
    write(tmp_path / "fam" / "t.yaml", "task: t_nowhere\ndataset_path: json\ntest_split: test\ndoc_to_text: !function utils.x\n")
    assert run("tasks", "check", "t_nowhere", "--include_path", tmp_path) == 2
    assert "failed: needs lmms_eval.tasks.nowhere_folder, which is neither in the built-in task library nor in any --include_path folder" in capsys.readouterr().out


def test_install_hint_names_the_package() -> None:
    assert install_hint("cv2").startswith("needs the 'cv2' module: pip install opencv-python-headless")
    assert install_hint("sklearn.metrics").startswith("needs the 'sklearn' module: pip install scikit-learn")
    assert install_hint("unknown_mod") == "needs the 'unknown_mod' module: pip install unknown_mod"
