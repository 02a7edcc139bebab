"""dataset_kwargs `video: True`: a local dataset repo's archives extracted once under $HF_HOME/<cache_dir>."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from lmms_eval.errors import DatasetLoadError
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.dataset import load_splits
from lmms_eval.taskdefs.video_datasets import BUSY_MARKER, DONE_MARKER, media_cache_dir
from lmms_eval.tasks._task_utils.media_resolver import resolve_media_reference
from lmms_eval.testing.video_repo import write_dataset_repo, write_tar_parts, write_zip

ROWS = [{"videoID": "clipA", "question": "q0"}, {"videoID": "clipB", "question": "q1"}]


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    # datasets keys its cache of a local repo folder by the folder's name and config alone
    # (not by the files): each test gets its own cache, or it would read another test's rows.
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "datasets_cache"))
    return home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A Video-MME-shaped repo: rows in parquet, videos and subtitles in two zips."""
    folder = write_dataset_repo(tmp_path / "repo", "videomme", {"test": ROWS})
    write_zip(folder / "videos_chunked_01.zip", {"data/clipA.mp4": b"video A", "data/clipB.mp4": b"video B"})
    write_zip(folder / "subtitle.zip", {"subtitle/clipA.srt": b"1\n00:00:00,000 --> 00:00:01,000\nhi\n"})
    return folder


def config_for(repo: Path, **flags) -> TaskConfig:
    raw = {
        "task": "v",
        "dataset_path": str(repo),
        "dataset_name": "videomme",
        "test_split": "test",
        "doc_to_text": "question",
        "dataset_kwargs": {"video": True, "cache_dir": "videomme", **flags},
    }
    return TaskConfig.from_dict(raw, str(repo.parent / "v.yaml"))


def test_archives_are_extracted_under_hf_home_and_docs_load(hf_home: Path, repo: Path) -> None:
    splits = load_splits(config_for(repo))
    assert [doc["videoID"] for doc in splits["test"]] == ["clipA", "clipB"]
    folder = hf_home / "videomme"
    assert (folder / "data" / "clipB.mp4").read_bytes() == b"video B"
    assert (folder / "subtitle" / "clipA.srt").exists()
    assert json.loads((folder / DONE_MARKER).read_text())["archives"] == {
        "subtitle.zip": (repo / "subtitle.zip").stat().st_size,
        "videos_chunked_01.zip": (repo / "videos_chunked_01.zip").stat().st_size,
    }
    assert not (folder / BUSY_MARKER).exists()
    # task code finds the videos the way lmms-eval task files look for them
    assert resolve_media_reference("clipA", cache_dir="videomme", extra_subdirs=["data"]) == str(folder / "data" / "clipA.mp4")


def test_a_second_run_does_not_extract_again_and_force_unzip_does(hf_home: Path, repo: Path) -> None:
    load_splits(config_for(repo))
    extracted = hf_home / "videomme" / "data" / "clipA.mp4"
    extracted.unlink()
    load_splits(config_for(repo))
    assert not extracted.exists()  # the marker says the archives were extracted: nothing is redone
    load_splits(config_for(repo, force_unzip=True))
    assert extracted.read_bytes() == b"video A"


def test_an_interrupted_extraction_is_redone(hf_home: Path, repo: Path) -> None:
    folder = hf_home / "videomme"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "clipA.mp4").write_bytes(b"trunc")
    (folder / BUSY_MARKER).write_text("")
    load_splits(config_for(repo))
    assert (folder / "data" / "clipA.mp4").read_bytes() == b"video A"
    assert (folder / DONE_MARKER).exists() and not (folder / BUSY_MARKER).exists()


def test_a_folder_extracted_by_lmms_eval_is_used_as_it_is(hf_home: Path, repo: Path) -> None:
    folder = hf_home / "videomme"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "clipA.mp4").write_bytes(b"theirs")
    load_splits(config_for(repo))
    assert (folder / "data" / "clipA.mp4").read_bytes() == b"theirs"
    assert not (folder / "data" / "clipB.mp4").exists()


def test_a_new_archive_is_extracted_alone(hf_home: Path, repo: Path) -> None:
    load_splits(config_for(repo))
    (hf_home / "videomme" / "data" / "clipA.mp4").unlink()
    write_zip(repo / "videos_chunked_02.zip", {"data/clipC.mp4": b"video C"})
    load_splits(config_for(repo))
    assert (hf_home / "videomme" / "data" / "clipC.mp4").exists()
    assert not (hf_home / "videomme" / "data" / "clipA.mp4").exists()


def test_split_tar_parts_are_one_archive(hf_home: Path, tmp_path: Path) -> None:
    folder = write_dataset_repo(tmp_path / "lvb", "default", {"validation": ROWS})
    sources = tmp_path / "src"
    sources.mkdir()
    for name in ("clipA", "clipB"):
        (sources / f"{name}.mp4").write_bytes(name.encode() * 500)
    write_tar_parts(folder / "videos.tar", {f"videos/{n}.mp4": sources / f"{n}.mp4" for n in ("clipA", "clipB")}, parts=3)
    config = TaskConfig.from_dict(
        {"task": "l", "dataset_path": str(folder), "validation_split": "validation", "doc_to_text": "question",
         "dataset_kwargs": {"video": True, "cache_dir": "datasets/longvideobench"}},
        str(tmp_path / "l.yaml"),
    )  # fmt: skip
    load_splits(config)
    extracted = hf_home / "datasets" / "longvideobench" / "videos"
    assert (extracted / "clipB.mp4").read_bytes() == b"clipB" * 500
    assert list(json.loads((extracted.parent / DONE_MARKER).read_text())["archives"]) == ["videos.tar"]


def test_create_link_without_archives_links_the_snapshot(hf_home: Path, tmp_path: Path) -> None:
    folder = write_dataset_repo(tmp_path / "mv", "default", {"test": ROWS})
    (folder / "video").mkdir()
    (folder / "video" / "clipA.mp4").write_bytes(b"A")
    config = TaskConfig.from_dict(
        {"task": "m", "dataset_path": str(folder), "test_split": "test", "doc_to_text": "question",
         "dataset_kwargs": {"video": True, "cache_dir": "mvbench_video", "create_link": True}},
        str(tmp_path / "m.yaml"),
    )  # fmt: skip
    load_splits(config)
    link = hf_home / "mvbench_video"
    assert link.is_symlink() and (link / "video" / "clipA.mp4").read_bytes() == b"A"


def test_a_hub_id_is_fetched_with_the_flags(hf_home: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    calls = []

    def fake_snapshot_download(**kwargs):
        calls.append(kwargs)
        return str(repo)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    config = TaskConfig.from_dict(
        {"task": "h", "dataset_path": "lmms-lab/Video-MME", "test_split": "test", "doc_to_text": "question",
         "dataset_kwargs": {"video": True, "cache_dir": "videomme", "force_download": True, "local_files_only": True, "revision": "v1"}},
        str(repo.parent / "h.yaml"),
    )  # fmt: skip
    with pytest.raises(DatasetLoadError):  # the rows themselves would come from the Hub, which is offline
        load_splits(config)
    [call] = calls
    assert call["repo_id"] == "lmms-lab/Video-MME" and call["repo_type"] == "dataset"
    assert (call["force_download"], call["local_files_only"], call["revision"]) == (True, True, "v1")
    assert (hf_home / "videomme" / "data" / "clipA.mp4").exists()


def test_a_failed_fetch_is_one_line(hf_home: Path, tmp_path: Path) -> None:
    config = TaskConfig.from_dict(
        {"task": "h", "dataset_path": "nobody/none", "test_split": "test", "doc_to_text": "q", "dataset_kwargs": {"video": True, "cache_dir": "x"}},
        str(tmp_path / "h.yaml"),
    )
    with pytest.raises(DatasetLoadError, match=r"^task h: cannot fetch the video archives of dataset 'nobody/none': "):
        load_splits(config)


def test_video_needs_cache_dir(hf_home: Path, repo: Path) -> None:
    config = config_for(repo)
    config.dataset_kwargs.pop("cache_dir")
    with pytest.raises(DatasetLoadError, match="video: true needs cache_dir"):
        load_splits(config)


def test_cache_dir_resolution(hf_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYDATA", str(tmp_path / "d"))
    assert media_cache_dir("videomme") == hf_home / "videomme"
    assert media_cache_dir("$MYDATA/vm") == tmp_path / "d" / "vm"
    assert media_cache_dir(str(tmp_path / "abs")) == tmp_path / "abs"


def test_task_code_finds_videos_under_its_yamls_cache_dir(hf_home: Path, tmp_path: Path) -> None:
    from lmms_eval.tasks._common.video import find_media, video_folder

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "_base.yaml").write_text("dataset_path: x\ndataset_kwargs:\n  cache_dir: vids\n")
    task_yaml = tmp_path / "t" / "task.yaml"
    task_yaml.write_text("include: _base.yaml\ntask: t\ndoc_to_text: !function utils.text\n")
    (hf_home / "vids" / "data").mkdir(parents=True)
    (hf_home / "vids" / "data" / "clipA.MP4").write_bytes(b"A")
    assert video_folder(task_yaml) == hf_home / "vids"
    assert find_media("clipA", task_yaml, ["data"]) == str(hf_home / "vids" / "data" / "clipA.MP4")
    assert find_media("nowhere", task_yaml, ["data"]) == "nowhere"


def test_prepare_extracts_and_reports_the_size(hf_home: Path, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from lmms_eval.cli.main import main

    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "v.yaml").write_text(
        f"task: vprep\ndataset_path: {repo}\ndataset_name: videomme\ntest_split: test\ndoc_to_text: question\n"
        "dataset_kwargs:\n  video: true\n  cache_dir: videomme\n"
    )
    assert main(["prepare", "--tasks", "vprep", "--include_path", str(tasks)]) == 0
    folder = hf_home / "videomme"
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    assert f"videos: {folder} ({size / 1e6:.1f} MB extracted)" in capsys.readouterr().out
    assert (folder / "data" / "clipA.mp4").exists()


def test_prepare_with_force_unzip_extracts_once(hf_home: Path, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.cli.main import main
    from lmms_eval.taskdefs import video_datasets

    calls = []
    real = video_datasets._extract
    monkeypatch.setattr(video_datasets, "_extract", lambda archive, folder: (calls.append(archive.name), real(archive, folder)))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "v.yaml").write_text(
        f"task: vforce\ndataset_path: {repo}\ndataset_name: videomme\ntest_split: test\ndoc_to_text: question\n"
        "dataset_kwargs:\n  video: true\n  cache_dir: videomme\n  force_unzip: true\n"
    )
    assert main(["prepare", "--tasks", "vforce", "--include_path", str(tasks)]) == 0
    assert sorted(calls) == ["subtitle.zip", "videos_chunked_01.zip"]


def test_a_failed_extraction_does_not_look_complete(hf_home: Path, repo: Path) -> None:
    (repo / "subtitle.zip").write_bytes(b"not a zip")
    with pytest.raises(DatasetLoadError, match="cannot extract"):
        load_splits(config_for(repo))
    folder = hf_home / "videomme"
    assert (folder / BUSY_MARKER).exists() and not (folder / DONE_MARKER).exists()
    write_zip(repo / "subtitle.zip", {"subtitle/clipA.srt": b"ok"})
    load_splits(config_for(repo))  # the busy marker makes the next run extract everything again
    assert (folder / "subtitle" / "clipA.srt").read_bytes() == b"ok"
    assert (folder / DONE_MARKER).exists() and not (folder / BUSY_MARKER).exists()


def test_only_tar_names_are_tar_archives(tmp_path: Path) -> None:
    from lmms_eval.taskdefs.video_datasets import _archives

    for name in ("videos.tar.part.aa", "videos.tar.part.ab", "extra.tar.gz", "notes.target.json", "data.tarot/clip.mp4"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = {archive.name: [part.name for part in archive.parts] for archive in _archives(tmp_path)}
    assert found == {"extra.tar": ["extra.tar.gz"], "videos.tar": ["videos.tar.part.aa", "videos.tar.part.ab"]}
