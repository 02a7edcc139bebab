"""yaml_io: the `!function` tag, `include` inheritance and YAML error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.yaml_io import load_with_includes, read_yaml


def test_function_tag_remembers_file_and_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "t.yaml", "doc_to_text: !function utils.doc_to_text\n")
    data = read_yaml(path)
    ref = data["doc_to_text"]
    assert ref == FunctionRef("utils.doc_to_text", tmp_path / "sub", str(path))
    assert str(ref) == "!function utils.doc_to_text"


def test_function_tag_resolves_against_yaml_folder(tmp_path: Path) -> None:
    write(tmp_path / "a" / "utils.py", "def f(doc):\n    return doc['x'] * 2\n")
    write(tmp_path / "a" / "pkg" / "helpers.py", "def g(doc):\n    return 'g'\n")
    path = write(tmp_path / "a" / "t.yaml", "one: !function utils.f\ntwo: !function pkg.helpers.g\n")
    data = read_yaml(path)
    assert data["one"].resolve("one")({"x": 21}) == 42
    assert data["two"].resolve("two")({}) == "g"


def test_two_folders_with_same_utils_name_do_not_clash(tmp_path: Path) -> None:
    write(tmp_path / "a" / "utils.py", "def f(doc):\n    return 'a'\n")
    write(tmp_path / "b" / "utils.py", "def f(doc):\n    return 'b'\n")
    first = read_yaml(write(tmp_path / "a" / "t.yaml", "k: !function utils.f\n"))["k"].resolve()
    second = read_yaml(write(tmp_path / "b" / "t.yaml", "k: !function utils.f\n"))["k"].resolve()
    assert (first({}), second({})) == ("a", "b")


def test_missing_function_module(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "doc_to_text: !function nowhere.fn\n")
    with pytest.raises(TaskConfigError) as caught:
        read_yaml(path)["doc_to_text"].resolve("doc_to_text")
    message = str(caught.value)
    assert message.startswith(f"{path}, key 'doc_to_text': ")
    assert f"no file {tmp_path / 'nowhere.py'}" in message


def test_missing_function_in_module(tmp_path: Path) -> None:
    write(tmp_path / "utils.py", "def other(doc):\n    return 1\n")
    path = write(tmp_path / "t.yaml", "doc_to_text: !function utils.absent\n")
    with pytest.raises(TaskConfigError) as caught:
        read_yaml(path)["doc_to_text"].resolve("doc_to_text")
    assert str(caught.value).startswith(f"{path}, key 'doc_to_text': ")
    assert "has no function 'absent'" in str(caught.value)
    assert "utils.py" in str(caught.value)


def test_function_without_module(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "doc_to_text: !function bare\n")
    with pytest.raises(TaskConfigError, match="'!function bare' must be module.function"):
        read_yaml(path)["doc_to_text"].resolve("doc_to_text")


def test_module_that_fails_to_import(tmp_path: Path) -> None:
    write(tmp_path / "utils.py", "raise RuntimeError('boom')\n")
    path = write(tmp_path / "t.yaml", "k: !function utils.f\n")
    with pytest.raises(TaskConfigError, match=r"importing .*utils\.py failed: RuntimeError\('boom'\)"):
        read_yaml(path)["k"].resolve("k")


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "task: ok\ndataset_path: x\ndoc_to_text: [unclosed\n")
    with pytest.raises(TaskConfigError) as caught:
        read_yaml(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: malformed YAML: ")  # the parser notices at end of input


def test_malformed_yaml_tab_indent_line(tmp_path: Path) -> None:
    path = tmp_path / "tab.yaml"
    path.write_text("task: a\nmetadata:\n\tversion: 1\n", encoding="utf-8")
    with pytest.raises(TaskConfigError) as caught:
        read_yaml(path)
    assert str(caught.value).startswith(f"{path}:3: malformed YAML")


def test_unknown_tag_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "a: 1\nb: !include other.yaml\n")
    with pytest.raises(TaskConfigError, match=rf"^{path}:2: malformed YAML"):
        read_yaml(path)


def test_empty_file_and_non_mapping(tmp_path: Path) -> None:
    assert read_yaml(write(tmp_path / "empty.yaml", "# nothing\n")) == {}
    path = write(tmp_path / "list.yaml", "- a\n- b\n")
    with pytest.raises(TaskConfigError, match=r"expected a mapping at the top, found list"):
        read_yaml(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="cannot read"):
        read_yaml(tmp_path / "absent.yaml")


def test_include_merges_and_including_file_wins(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "dataset_path: base\ntest_split: test\nmetadata:\n  version: 1\n")
    path = write(tmp_path / "t.yaml", "include: base.yaml\ntask: t\nmetadata:\n  version: 2\n")
    assert load_with_includes(path) == {
        "dataset_path": "base",
        "test_split": "test",
        "metadata": {"version": 2},  # top-level keys replace, no deep merge
        "task": "t",
    }


def test_include_list_later_wins_and_chains(tmp_path: Path) -> None:
    write(tmp_path / "root.yaml", "a: root\nb: root\nc: root\n")
    write(tmp_path / "common" / "mid.yaml", "include: ../root.yaml\nb: mid\n")
    write(tmp_path / "other.yaml", "c: other\n")
    path = write(tmp_path / "t.yaml", "include: [common/mid.yaml, other.yaml]\nd: top\n")
    assert load_with_includes(path) == {"a": "root", "b": "mid", "c": "other", "d": "top"}


def test_include_absolute_path(tmp_path: Path) -> None:
    base = write(tmp_path / "elsewhere" / "base.yaml", "x: 1\n")
    path = write(tmp_path / "t.yaml", f"include: {base}\ny: 2\n")
    assert load_with_includes(path) == {"x": 1, "y": 2}


def test_function_in_included_file_resolves_against_its_own_folder(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "utils.py", "def f(doc):\n    return 'shared'\n")
    write(tmp_path / "shared" / "base.yaml", "doc_to_text: !function utils.f\n")
    path = write(tmp_path / "tasks" / "t.yaml", "include: ../shared/base.yaml\ntask: t\n")
    ref = load_with_includes(path)["doc_to_text"]
    assert ref.base_dir == tmp_path / "shared"
    assert ref.resolve()({}) == "shared"


def test_missing_include(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "include: gone.yaml\n")
    with pytest.raises(TaskConfigError) as caught:
        load_with_includes(path)
    assert str(caught.value) == f"{path}, key 'include': included file not found: {tmp_path / 'gone.yaml'}"


def test_include_cycle(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", "include: b.yaml\n")
    b = write(tmp_path / "b.yaml", "include: a.yaml\n")
    with pytest.raises(TaskConfigError) as caught:
        load_with_includes(a)
    message = str(caught.value)
    assert f"include cycle: {a.resolve()} -> {b.resolve()} -> {a.resolve()}" in message
    assert "key 'include'" in message


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", "include: a.yaml\nx: 1\n")
    with pytest.raises(TaskConfigError, match="include cycle"):
        load_with_includes(a)


def test_diamond_include_is_not_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "root.yaml", "r: 1\n")
    write(tmp_path / "left.yaml", "include: root.yaml\nl: 1\n")
    write(tmp_path / "right.yaml", "include: root.yaml\nq: 1\n")
    path = write(tmp_path / "t.yaml", "include: [left.yaml, right.yaml]\n")
    assert load_with_includes(path) == {"r": 1, "l": 1, "q": 1}
