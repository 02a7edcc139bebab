"""index: scanning YAML folders and resolving `--tasks` names."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from helpers import write

from lmms_eval.errors import TaskConfigError, UnknownNameError
from lmms_eval.taskdefs.index import WARN_EACH_UP_TO, BrokenFile, GroupNode, TaskIndex


def task_yaml(path: Path, name: str, extra: str = "") -> Path:
    return write(path, f"task: {name}\ndataset_path: json\ntest_split: test\ndoc_to_text: question\n{extra}")


def build(root: Path) -> TaskIndex:
    return TaskIndex.build([root], include_builtin=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Tasks a1 a2 (tag alpha), b1 (tags alpha, beta), group ab -> [a1, sub], group sub -> [b1], a template."""
    root = tmp_path / "tasks"
    task_yaml(root / "a" / "a1.yaml", "a1", "tag: alpha\n")
    task_yaml(root / "a" / "a2.yaml", "a2", "tag: [alpha]\n")
    task_yaml(root / "b" / "deep" / "b1.yaml", "b1", "tag: [alpha, beta]\n")
    write(root / "_template.yaml", "dataset_path: json\ntest_split: test\n")
    write(root / "groups" / "ab.yaml", "group: ab\ntask: [a1, sub]\naggregate_metric_list:\n  - metric: exact_match\n")
    write(root / "groups" / "sub.yaml", "group: sub\ntask: [b1]\n")
    return root


def test_scan_finds_tasks_groups_tags_and_skips_templates(tree: Path) -> None:
    index = build(tree)
    assert sorted(index.tasks) == ["a1", "a2", "b1"]
    assert sorted(index.groups) == ["ab", "sub"]
    assert index.tags == {"alpha": ["a1", "a2", "b1"], "beta": ["b1"]}
    assert index.all_names() == ["a1", "a2", "ab", "alpha", "b1", "beta", "sub"]
    assert index.tasks["b1"][0] == tree / "b" / "deep" / "b1.yaml"


def test_builtin_demo_task_is_indexed() -> None:
    index = TaskIndex.build()
    assert "demo_colours" in index.tasks
    assert index.task_config("demo_colours").generation_kwargs == {"max_new_tokens": 8, "temperature": 0}


def test_missing_include_path(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match=rf"^{tmp_path / 'nope'}: --include_path does not exist$"):
        build(tmp_path / "nope")


def test_include_path_may_be_one_file(tmp_path: Path) -> None:
    path = task_yaml(tmp_path / "one.yaml", "one")
    assert list(build(path).tasks) == ["one"]


def test_select_plain_task(tree: Path) -> None:
    selection = build(tree).select(["a2"])
    assert selection.roots == ["a2"]
    assert selection.task_names() == ["a2"]
    assert selection.configs["a2"].source == str(tree / "a" / "a2.yaml")
    assert selection.groups() == []


def test_select_nested_group(tree: Path) -> None:
    selection = build(tree).select(["ab"])
    (root,) = selection.roots
    assert isinstance(root, GroupNode)
    assert root.name == "ab"
    assert root.is_tag is False
    assert root.child_names() == ["a1", "sub"]
    assert root.leaf_tasks() == ["a1", "b1"]
    assert [group.name for group in selection.groups()] == ["ab", "sub"]
    assert selection.task_names() == ["a1", "b1"]


def test_select_tag(tree: Path) -> None:
    selection = build(tree).select(["beta", "alpha"])
    assert [root.name for root in selection.roots] == ["beta", "alpha"]
    assert all(root.is_tag for root in selection.roots)
    assert selection.roots[1].child_names() == ["a1", "a2", "b1"]
    assert selection.task_names() == ["b1", "a1", "a2"]  # first request first, each once


def test_wildcards(tree: Path) -> None:
    index = build(tree)
    assert index.select(["a*"]).roots[0] == "a1"
    assert [r if isinstance(r, str) else r.name for r in index.select(["a*"]).roots] == ["a1", "a2", "ab"]
    assert index.select(["?1"]).roots == ["a1", "b1"]
    assert index.select(["a[2]"]).roots == ["a2"]
    with pytest.raises(UnknownNameError, match=r"no task or group matches 'zz\*'"):
        index.select(["zz*"])


def test_unknown_name_suggests_close_names(tree: Path) -> None:
    with pytest.raises(UnknownNameError) as caught:
        build(tree).select(["alpah"])
    assert str(caught.value) == "unknown task, group or tag 'alpah'; did you mean 'alpha'? (see `lmms-eval --tasks list`)"
    with pytest.raises(UnknownNameError, match=r"^unknown task, group or tag 'qqqq' \(see"):
        build(tree).select(["qqqq"])


def test_group_with_unknown_member_names_the_group_and_its_file(tmp_path: Path) -> None:
    task_yaml(tmp_path / "t.yaml", "missing_tsak")
    group = write(tmp_path / "g.yaml", "group: g\ntask: [missing_task]\n")
    with pytest.raises(TaskConfigError) as caught:
        build(tmp_path).select(["g"])
    assert str(caught.value) == (
        f"{group}, key 'task': group 'g' lists 'missing_task', which is no task, group or tag; did you mean 'missing_tsak'?"
    )


def test_nested_inline_group_with_unknown_member_names_the_outer_file(tmp_path: Path) -> None:
    group = write(tmp_path / "g.yaml", "group: outer\ntask:\n  - group: inner\n    task: [nothing_here]\n")
    with pytest.raises(TaskConfigError, match=rf"^{group}, key 'task': group 'inner' lists 'nothing_here', which is no task"):
        build(tmp_path).select(["outer"])


def test_group_member_defined_only_by_a_broken_file(tmp_path: Path) -> None:
    bad = task_yaml(tmp_path / "bad.yaml", "member", "doc_to_txt: q\n")
    group = write(tmp_path / "g.yaml", "group: g\ntask: [member]\n")
    with pytest.raises(TaskConfigError) as caught:
        build(tmp_path).select(["g"])
    assert str(caught.value) == (
        f"{group}, key 'task': group 'g' lists 'member', whose file could not be read: "
        f"{bad}, key 'doc_to_txt': unknown key (did you mean 'doc_to_text'?)"
    )


def test_duplicate_task_name_first_in_scan_order_wins(tmp_path: Path) -> None:
    first = task_yaml(tmp_path / "a" / "x.yaml", "same")
    second = task_yaml(tmp_path / "b" / "x.yaml", "same")
    index = build(tmp_path)
    assert index.tasks["same"][0] == first
    assert index.broken == [BrokenFile(second, f"{second}, key 'task': name 'same' is already defined in {first}", "same")]
    assert index.select(["same"]).configs["same"].source == str(first)


def test_duplicate_name_across_include_paths_first_path_wins(tmp_path: Path) -> None:
    late = task_yaml(tmp_path / "z_first" / "t.yaml", "same")
    early = task_yaml(tmp_path / "a_second" / "t.yaml", "same")
    index = TaskIndex.build([tmp_path / "z_first", tmp_path / "a_second"], include_builtin=False)
    assert index.tasks["same"][0] == late  # the --include_path order, not the alphabet
    assert [entry.path for entry in index.broken] == [early]


def test_group_name_clashing_with_task(tmp_path: Path) -> None:
    task = task_yaml(tmp_path / "a.yaml", "dup")
    group = write(tmp_path / "b.yaml", "group: dup\ntask: [dup]\n")
    index = build(tmp_path)
    assert list(index.tasks) == ["dup"] and index.groups == {}
    assert [entry.message for entry in index.broken] == [f"{group}, key 'task': name 'dup' is already defined in {task}"]


def test_group_cycle(tmp_path: Path) -> None:
    task_yaml(tmp_path / "t.yaml", "t")
    write(tmp_path / "g1.yaml", "group: g1\ntask: [t, g2]\n")
    g2 = write(tmp_path / "g2.yaml", "group: g2\ntask: [g1]\n")
    with pytest.raises(TaskConfigError) as caught:
        build(tmp_path).select(["g1"])
    assert str(caught.value) == f"{tmp_path / 'g1.yaml'}: group cycle: g1 -> g2 -> g1"
    assert g2.exists()


def test_same_task_in_two_groups_is_no_cycle(tmp_path: Path) -> None:
    task_yaml(tmp_path / "t.yaml", "t")
    write(tmp_path / "g1.yaml", "group: g1\ntask: [t, g2]\n")
    write(tmp_path / "g2.yaml", "group: g2\ntask: [t]\n")
    selection = build(tmp_path).select(["g1"])
    assert selection.roots[0].leaf_tasks() == ["t", "t"]
    assert selection.task_names() == ["t"]


def test_inline_group_and_inline_task_overrides(tmp_path: Path) -> None:
    task_yaml(tmp_path / "t.yaml", "t", "num_fewshot: 0\n")
    write(
        tmp_path / "g.yaml",
        """
        group: outer
        task:
          - task: t
            num_fewshot: 3
          - group: inner
            task: [t]
            aggregate_metric_list:
              - metric: acc
          - task: fresh
            dataset_path: csv
            test_split: test
            doc_to_text: q
        """,
    )
    selection = build(tmp_path).select(["outer"])
    root = selection.roots[0]
    assert root.child_names() == ["t", "inner", "fresh"]
    inner = root.children[1]
    assert isinstance(inner, GroupNode) and inner.config.source == str(tmp_path / "g.yaml")  # errors name the file that wrote it
    assert [m.metric for m in inner.config.aggregate_metric_list] == ["acc"]
    assert selection.configs["t"].num_fewshot == 3
    assert selection.configs["t"].source == str(tmp_path / "t.yaml")
    assert selection.configs["fresh"].dataset_path == "csv"
    assert selection.configs["fresh"].source == str(tmp_path / "g.yaml")  # its paths resolve against the group file


def test_inline_override_is_still_validated(tmp_path: Path) -> None:
    task_yaml(tmp_path / "t.yaml", "t")
    write(tmp_path / "g.yaml", "group: g\ntask:\n  - task: t\n    num_fewshots: 3\n")
    with pytest.raises(TaskConfigError, match=r"key 'num_fewshots': unknown key \(did you mean 'num_fewshot'\?\)"):
        build(tmp_path).select(["g"])


def test_inline_entry_without_name(tmp_path: Path) -> None:
    write(tmp_path / "g.yaml", "group: g\ntask:\n  - num_fewshot: 3\n")
    with pytest.raises(TaskConfigError, match=r"^g, key 'task': an inline entry needs a 'task' or 'group' name$"):
        build(tmp_path).select(["g"])


def test_inline_group_named_like_its_task(tmp_path: Path) -> None:
    task_yaml(tmp_path / "t.yaml", "t")
    write(tmp_path / "g.yaml", "group: g\ntask:\n  - group: t\n    task: [t]\n")
    node = build(tmp_path).select(["g"]).roots[0]
    assert node.leaf_tasks() == ["t"]


def test_yaml_path_in_tasks(tmp_path: Path) -> None:
    outside = task_yaml(tmp_path / "loose" / "solo.yaml", "solo", "tag: lonely\n")
    index = TaskIndex.build([], include_builtin=False)
    selection = index.select([str(outside)])
    assert selection.roots == ["solo"]
    assert selection.configs["solo"].source == str(outside)
    assert index.tags == {"lonely": ["solo"]}


def test_yaml_path_of_group_in_tasks(tree: Path) -> None:
    index = build(tree)
    selection = index.select([str(tree / "groups" / "sub.yaml")])
    assert selection.roots[0].name == "sub"


def test_yaml_path_already_indexed_keeps_tags_unique(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    index = TaskIndex.build(["tasks"], include_builtin=False)
    assert index.select([os.path.join("tasks", "a", "a1.yaml")]).roots == ["a1"]
    assert index.tags["alpha"] == ["a1", "a2", "b1"]  # a1 not added twice
    assert index.select(["alpha"]).roots[0].leaf_tasks() == ["a1", "a2", "b1"]


def test_yaml_path_already_indexed_by_another_spelling(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    index = TaskIndex.build(["tasks"], include_builtin=False)
    assert index.select([str(tree / "a" / "a1.yaml")]).roots == ["a1"]  # absolute: the same file, no clash


def test_yaml_path_without_task(tree: Path) -> None:
    with pytest.raises(TaskConfigError, match="defines no task or group"):
        build(tree).select([str(tree / "_template.yaml")])


def test_task_config_overrides_and_fresh_copies(tree: Path) -> None:
    index = build(tree)
    overridden = index.task_config("a1", {"num_fewshot": 2})
    assert overridden.num_fewshot == 2
    assert index.task_config("a1").num_fewshot is None


def test_invalid_task_file_is_skipped_and_stops_only_a_run_that_needs_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bad = write(tmp_path / "bad.yaml", "task: bad\ndataset_path: json\ntest_split: test\ndoc_to_txt: q\n")
    task_yaml(tmp_path / "good.yaml", "good")
    index = build(tmp_path)
    reason = f"{bad}, key 'doc_to_txt': unknown key (did you mean 'doc_to_text'?)"
    assert index.broken == [BrokenFile(bad, reason, "bad")]
    assert [record.getMessage() for record in caplog.records] == [f"skipped {reason}"]
    assert index.select(["good"]).task_names() == ["good"]
    with pytest.raises(TaskConfigError) as caught:
        index.select(["bad"])
    assert str(caught.value) == f"'bad' is defined only in a file that could not be read: {reason}"


def test_many_broken_files_give_one_summary_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for number in range(WARN_EACH_UP_TO + 1):
        write(tmp_path / f"bad{number:02d}.yaml", "task: [unclosed\n")
    index = build(tmp_path)
    assert len(index.broken) == WARN_EACH_UP_TO + 1
    [record] = caplog.records
    assert record.getMessage().startswith(f"skipped {WARN_EACH_UP_TO + 1} task files that could not be read (first: {tmp_path / 'bad00.yaml'}:")
    assert TaskIndex.build([tmp_path], include_builtin=False, log_broken=False).broken == index.broken


def test_broken_user_file_for_a_builtin_name_does_not_run_the_builtin(tmp_path: Path) -> None:
    bad = task_yaml(tmp_path / "demo_colours.yaml", "demo_colours", "doc_to_txt: q\n")
    index = TaskIndex.build([tmp_path])
    assert "demo_colours" not in index.tasks
    with pytest.raises(TaskConfigError, match=rf"^'demo_colours' is defined only in a file that could not be read: {bad}, key 'doc_to_txt'"):
        index.select(["demo_colours"])


def test_hidden_and_cache_folders_are_not_scanned(tmp_path: Path) -> None:
    task_yaml(tmp_path / "a" / "t.yaml", "t")
    task_yaml(tmp_path / "a" / ".ipynb_checkpoints" / "t-checkpoint.yaml", "t")
    task_yaml(tmp_path / ".git" / "t.yaml", "t")
    task_yaml(tmp_path / "__pycache__" / "t.yaml", "t")
    index = build(tmp_path)
    assert index.tasks["t"][0] == tmp_path / "a" / "t.yaml"


def test_hidden_include_path_itself_is_scanned(tmp_path: Path) -> None:
    task_yaml(tmp_path / ".tasks" / "t.yaml", "t")
    assert list(build(tmp_path / ".tasks").tasks) == ["t"]


def test_malformed_yaml_is_broken_with_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "task: bad\ndataset_path: json\n  test_split: test\n")
    [entry] = build(tmp_path).broken
    assert entry.path == bad and entry.name is None
    assert entry.message.startswith(f"{bad}:3: malformed YAML: ")
    with pytest.raises(UnknownNameError, match=r"1 task files could not be read \(`lmms-eval tasks check all` shows why\)$"):
        build(tmp_path).select(["bad"])


def test_broken_include_names_the_including_file_first(tmp_path: Path) -> None:
    template = write(tmp_path / "_default_template_yaml", "dataset_path: [unclosed\n")
    child = write(tmp_path / "child.yaml", "include: _default_template_yaml\ntask: child\n")
    [entry] = build(tmp_path).broken
    assert entry == BrokenFile(child, entry.message, "child")
    assert entry.message.startswith(f"{child}: {template}:2: malformed YAML")


def test_include_cycle_breaks_both_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "include: b.yaml\ntask: a\n")
    write(tmp_path / "b.yaml", "include: a.yaml\n")
    broken = build(tmp_path).broken
    assert [entry.path.name for entry in broken] == ["a.yaml", "b.yaml"]
    assert all(re.search(r"key 'include': include cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml", entry.message) for entry in broken)
    assert broken[1].message.startswith(f"{tmp_path / 'b.yaml'}: ")


def test_a_template_included_by_many_files_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.taskdefs import yaml_io

    write(tmp_path / "_default_template_yaml", "dataset_path: json\ntest_split: test\ndoc_to_text: q\n")
    for number in range(20):
        write(tmp_path / f"t{number}.yaml", f"include: _default_template_yaml\ntask: t{number}\n")
    parsed: list[Path] = []
    real = yaml_io.read_yaml
    monkeypatch.setattr(yaml_io, "read_yaml", lambda path: parsed.append(path) or real(path))
    index = build(tmp_path)
    assert len(index.tasks) == 20
    assert parsed.count((tmp_path / "_default_template_yaml").resolve()) == 1
    index.tasks["t0"][1]["metadata"] = "changed"  # tasks from one template share no values
    assert "metadata" not in index.tasks["t1"][1]
