"""The task index's on-disk cache: a later build sees every change, and a bad or missing
cache only costs a fresh scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from lmms_eval.taskdefs import index_cache, yaml_io
from lmms_eval.taskdefs.index import TaskIndex


def task_yaml(path: Path, name: str, extra: str = "") -> Path:
    return write(path, f"task: {name}\ndataset_path: json\ntest_split: test\ndoc_to_text: question\n{extra}")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of the test's own that trusts files written just now (edits change size)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(index_cache.CACHE_FOLDER_ENV, str(folder))
    monkeypatch.setattr(index_cache, "RACY_SECONDS", -1.0)
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every YAML file parsed from here on."""
    seen: list[Path] = []
    original = yaml_io.read_yaml

    def counting(path: Path) -> dict:
        seen.append(path)
        return original(path)

    monkeypatch.setattr(yaml_io, "read_yaml", counting)
    return seen


def build(root: Path) -> TaskIndex:
    return TaskIndex.build([root], include_builtin=False)


def test_second_build_reads_from_the_cache(tmp_path: Path, cache_dir: Path, parses: list[Path]) -> None:
    task_yaml(tmp_path / "t" / "a.yaml", "a", "tag: letters\n")
    write(tmp_path / "t" / "g.yaml", "group: g\ntask: [a]\n")
    first = build(tmp_path / "t")
    parsed_first = len(parses)
    second = build(tmp_path / "t")
    assert parsed_first == 2 and len(parses) == 2  # nothing parsed the second time
    assert second.tasks == first.tasks
    assert second.groups == first.groups and second.tags == first.tags == {"letters": ["a"]}


def test_edited_added_and_removed_files_are_seen(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "t"
    task_yaml(root / "a.yaml", "a")
    task_yaml(root / "b.yaml", "b")
    build(root)
    task_yaml(root / "a.yaml", "a", "generation_kwargs:\n  max_new_tokens: 3\n")
    (root / "b.yaml").unlink()
    task_yaml(root / "sub" / "c.yaml", "c")
    index = build(root)
    assert sorted(index.tasks) == ["a", "c"]
    assert index.task_config("a").generation_kwargs == {"max_new_tokens": 3}


def test_an_edited_include_is_seen(tmp_path: Path, cache_dir: Path) -> None:
    write(tmp_path / "templates" / "base.yaml", "dataset_path: json\ntest_split: test\ndoc_to_text: question\n")
    write(tmp_path / "t" / "a.yaml", "task: a\ninclude: ../templates/base.yaml\n")
    assert build(tmp_path / "t").task_config("a").test_split == "test"
    write(tmp_path / "templates" / "base.yaml", "dataset_path: json\ntest_split: validation\ndoc_to_text: question\n")
    assert build(tmp_path / "t").task_config("a").test_split == "validation"


def test_an_include_that_appears_beside_the_file_is_seen(tmp_path: Path, cache_dir: Path) -> None:
    """`include: name` looks beside the including file before the built-in library: a file
    created there later takes over from the library's."""
    write(tmp_path / "t" / "a.yaml", "task: a\ninclude: mvbench/_default_template_yaml\ndoc_to_text: question\n")
    assert build(tmp_path / "t").task_config("a").dataset_path != "json"  # the library's template
    write(tmp_path / "t" / "mvbench" / "_default_template_yaml", "dataset_path: json\ntest_split: test\n")
    assert build(tmp_path / "t").task_config("a").dataset_path == "json"


def test_a_data_file_appearing_beside_an_included_template_is_seen(tmp_path: Path, cache_dir: Path) -> None:
    """An included file's relative data path is anchored to its folder only where the data
    exists, so the data appearing later changes the merged config."""
    write(tmp_path / "lib" / "base.yaml", "dataset_path: json\ndataset_kwargs:\n  data_files: data.json\ntest_split: test\ndoc_to_text: q\n")
    write(tmp_path / "t" / "a.yaml", "task: a\ninclude: ../lib/base.yaml\n")
    assert build(tmp_path / "t").task_config("a").dataset_kwargs["data_files"] == "data.json"
    write(tmp_path / "lib" / "data.json", "[]")
    assert build(tmp_path / "t").task_config("a").dataset_kwargs["data_files"] == str(tmp_path / "lib" / "data.json")


def test_files_changed_just_now_are_not_trusted(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A same-size edit within one timestamp tick would look unchanged: recent files are
    read again until they are a few seconds old."""
    monkeypatch.setattr(index_cache, "RACY_SECONDS", 3600.0)
    task_yaml(tmp_path / "t" / "a.yaml", "a", "test_split: aaaa\n")
    assert build(tmp_path / "t").task_config("a").test_split == "aaaa"
    task_yaml(tmp_path / "t" / "a.yaml", "a", "test_split: bbbb\n")  # same size
    assert build(tmp_path / "t").task_config("a").test_split == "bbbb"


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path, cache_dir: Path, parses: list[Path]) -> None:
    task_yaml(tmp_path / "t" / "a.yaml", "a")
    build(tmp_path / "t")
    [cache_file] = cache_dir.glob("*.pickle")
    cache_file.write_bytes(b"\x80\x05not a pickle at all")
    assert list(build(tmp_path / "t").tasks) == ["a"]
    assert len(parses) == 2  # read again
    assert list(build(tmp_path / "t").tasks) == ["a"]
    assert len(parses) == 2  # and cached again


def test_an_unwritable_cache_folder_means_no_cache(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = write(tmp_path / "a-file", "")
    monkeypatch.setenv(index_cache.CACHE_FOLDER_ENV, str(blocker / "cache"))  # a folder inside a file
    task_yaml(tmp_path / "t" / "a.yaml", "a")
    assert list(build(tmp_path / "t").tasks) == ["a"]
    assert list(build(tmp_path / "t").tasks) == ["a"]


def test_broken_files_stay_broken_and_are_not_cached(tmp_path: Path, cache_dir: Path) -> None:
    write(tmp_path / "t" / "bad.yaml", "task: bad\ninclude: missing.yaml\n")
    for _ in range(2):
        index = build(tmp_path / "t")
        assert [entry.name for entry in index.broken] == ["bad"]
        assert "included file not found" in index.broken[0].message


def test_builtin_library_is_the_same_from_the_cache(cache_dir: Path) -> None:
    first = TaskIndex.build(log_broken=False)
    second = TaskIndex.build(log_broken=False)
    assert second.tasks == first.tasks and second.groups == first.groups and second.tags == first.tags
    assert len(list(cache_dir.glob("*.pickle"))) == 1


def test_a_replaced_builtin_is_still_replaced_from_the_cache(tmp_path: Path, cache_dir: Path) -> None:
    task_yaml(tmp_path / "t" / "demo.yaml", "demo_colours")
    for _ in range(2):
        index = TaskIndex.build([tmp_path / "t"], log_broken=False)
        assert index.tasks["demo_colours"][0] == tmp_path / "t" / "demo.yaml"


def test_no_home_folder_means_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(index_cache.CACHE_FOLDER_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    task_yaml(tmp_path / "t" / "a.yaml", "a")
    assert list(build(tmp_path / "t").tasks) == ["a"]
