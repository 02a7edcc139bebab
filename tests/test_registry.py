"""registry: lazy imports, aliases and did-you-mean messages."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write

from lmms_eval.errors import UnknownNameError
from lmms_eval.registry import Registry, import_object


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh importable module (unique name) with `Thing` and `other`; unloaded afterwards."""
    name = f"lazy_plugin_{uuid.uuid4().hex[:8]}"
    write(tmp_path / f"{name}.py", "class Thing:\n    pass\n\n\ndef other():\n    return 'other'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_lazy_entry_imports_on_first_get_only(plugin_module: str) -> None:
    registry: Registry[type] = Registry("widget")
    registry.add_lazy("thing", f"{plugin_module}:Thing")
    assert "thing" in registry
    assert registry.names() == ["thing"]
    assert registry.target_of("thing") == f"{plugin_module}:Thing"
    assert plugin_module not in sys.modules  # listing and membership import nothing
    thing = registry.get("thing")
    assert plugin_module in sys.modules
    assert thing is sys.modules[plugin_module].Thing
    assert registry.get("thing") is thing


def test_dotted_target_form(plugin_module: str) -> None:
    registry: Registry[object] = Registry("widget")
    registry.add_lazy("other", f"{plugin_module}.other")
    assert registry.get("other")() == "other"
    assert import_object(f"{plugin_module}:other") is import_object(f"{plugin_module}.other")


def test_lazy_aliases_share_the_target(plugin_module: str) -> None:
    registry: Registry[type] = Registry("widget")
    registry.add_lazy("thing", f"{plugin_module}:Thing", "thingy", "t")
    assert registry.names() == ["t", "thing", "thingy"]
    assert list(registry) == ["t", "thing", "thingy"]
    assert registry.get("t") is registry.get("thingy") is registry.get("thing")


def test_register_decorator_with_aliases() -> None:
    registry: Registry[object] = Registry("aggregation")

    @registry.register("average", "avg")
    def average(values: list[float]) -> float:
        return sum(values) / len(values)

    assert registry.get("avg") is average
    assert registry.get("average")([1, 3]) == 2
    assert registry.add("direct", 5) == 5
    assert registry.target_of("direct") == 5
    assert registry.names() == ["average", "avg", "direct"]


def test_unknown_name_suggests_close_names() -> None:
    registry: Registry[int] = Registry("metric")
    for name in ("exact_match", "exact_matches", "anls", "accuracy"):
        registry.add(name, 1)
    with pytest.raises(UnknownNameError) as caught:
        registry.get("exact_mach")
    assert str(caught.value) == "unknown metric 'exact_mach'; did you mean 'exact_match', 'exact_matches'?"
    assert registry.unknown_message("zzz") == "unknown metric 'zzz'"
    assert "zzz" not in registry


def test_bad_lazy_target_fails_on_get_not_on_add() -> None:
    registry: Registry[object] = Registry("widget")
    registry.add_lazy("broken", "no_such_module_anywhere_123:thing")
    assert "broken" in registry
    with pytest.raises(ModuleNotFoundError):
        registry.get("broken")


def test_builtin_registries_import_lazily() -> None:
    code = (
        "import sys; import lmms_eval.filters as f;"
        "assert 'lmms_eval.filters.extraction' not in sys.modules;"
        "assert 'regex' in f.FILTERS;"
        "assert 'lmms_eval.filters.extraction' not in sys.modules;"
        "f.FILTERS.get('regex');"
        "assert 'lmms_eval.filters.extraction' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plugins_come_from_entry_points_scanned_only_for_names_not_built_in(plugin_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    scans = []

    def fake_entry_points(group: str):
        scans.append(group)
        return [
            importlib.metadata.EntryPoint("plugged", f"{plugin_module}:Thing", group),
            importlib.metadata.EntryPoint("thing", f"{plugin_module}:other", group),  # cannot replace a built-in
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    registry: Registry[object] = Registry("widget", entry_point_group="lmms_eval.widgets")
    registry.add_lazy("thing", f"{plugin_module}:Thing")
    assert "thing" in registry and registry.get("thing").__name__ == "Thing"
    assert scans == []  # a built-in name is found without reading the installed packages
    assert "plugged" in registry and registry.get("plugged").__name__ == "Thing"
    assert scans == ["lmms_eval.widgets"]
    assert registry.names() == ["plugged", "thing"] and registry.get("thing").__name__ == "Thing"
    assert scans == ["lmms_eval.widgets"]  # scanned once
