"""The HF Hub: `--hf_hub_log_args` pushes a run's results and samples as dataset repos.

lmms-eval's keys: `hub_results_org` (default: the token's user), `details_repo_name`
(samples; default `lmms-eval-results`), `results_repo_name` (default: the details repo),
`hub_repo_name` (the older name for both), `push_results_to_hub`, `push_samples_to_hub`,
`public_repo` (default false: private repos, named with a `-private` suffix as lmms-eval
names them), `token`, `leaderboard_url`, `point_of_contact`.

Each repo gets one commit (`huggingface_hub`'s create_repo and create_commit) holding
`<model>/results_<stamp>.json`, `<model>/samples_<task>_<stamp>.jsonl` and a dataset card.
The files are the redacted ones the run writes locally.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Any

from lmms_eval.errors import ConfigError
from lmms_eval.report.sharing import SharedRun

DEFAULT_REPO_NAME = "lmms-eval-results"
_WHERE = "--hf_hub_log_args"
_FLAGS = ("push_results_to_hub", "push_samples_to_hub", "public_repo")
_TEXTS = ("hub_results_org", "hub_repo_name", "details_repo_name", "results_repo_name", "token", "leaderboard_url", "point_of_contact")


@dataclass(frozen=True)
class HubSettings:
    hub_results_org: str | None = None
    details_repo_name: str = DEFAULT_REPO_NAME
    results_repo_name: str = DEFAULT_REPO_NAME
    push_results_to_hub: bool = False
    push_samples_to_hub: bool = False
    public_repo: bool = False
    token: str | None = None
    leaderboard_url: str | None = None
    point_of_contact: str | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> HubSettings:
        unknown = sorted(set(args) - set(_FLAGS) - set(_TEXTS))
        if unknown:
            raise ConfigError(f"{_WHERE}: unknown key(s) {', '.join(unknown)} (known: {', '.join((*_TEXTS, *_FLAGS))})")
        for key in _FLAGS:
            if key in args and not isinstance(args[key], bool):
                raise ConfigError(f"{_WHERE}: {key} must be True or False, not {args[key]!r}")
        texts = {key: str(args[key]) for key in _TEXTS if args.get(key) is not None}
        legacy = texts.pop("hub_repo_name", None)  # lmms-eval's older key: one repo for both
        details = texts.pop("details_repo_name", None) or legacy or DEFAULT_REPO_NAME
        results = texts.pop("results_repo_name", None) or legacy or details
        flags = {key: args[key] for key in _FLAGS if key in args}
        return cls(details_repo_name=details, results_repo_name=results, **flags, **texts)

    def check(self) -> None:
        """Before any request: something to push, and huggingface_hub able to reach the Hub."""
        if not (self.push_results_to_hub or self.push_samples_to_hub):
            raise ConfigError(f"{_WHERE}: nothing to push; set push_results_to_hub=True and/or push_samples_to_hub=True")
        for name in (self.details_repo_name, self.results_repo_name, self.hub_results_org or "x"):
            if "/" in name or not name.strip():
                raise ConfigError(f"{_WHERE}: '{name}' is not a repo or organisation name (no '/')")
        try:
            from huggingface_hub import constants
        except ImportError:
            raise ConfigError(f"{_WHERE} needs the huggingface_hub package") from None
        if constants.is_offline_mode():
            raise ConfigError(f"{_WHERE}: HF_HUB_OFFLINE is set, so nothing can be pushed; unset it (or leave out {_WHERE})")

    def repo_id(self, org: str, name: str) -> str:
        return f"{org}/{name}" if self.public_repo else f"{org}/{name}-private"


def hub_files(shared: SharedRun, settings: HubSettings, org: str) -> dict[str, dict[str, bytes]]:
    """repo id -> {path in repo: content}: results and samples under the model's folder."""
    results = shared.results
    model = str(results.get("model_name_sanitized") or "model")
    stamp = _stamp(results.get("date"))
    repos: dict[str, dict[str, bytes]] = {}
    samples_paths: dict[str, dict[str, str]] = {}  # repo id -> task -> its samples file
    if settings.push_results_to_hub:
        files = repos.setdefault(settings.repo_id(org, settings.results_repo_name), {})
        files[f"{model}/results_{stamp}.json"] = (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode()
    if settings.push_samples_to_hub:
        files = repos.setdefault(settings.repo_id(org, settings.details_repo_name), {})
        tasks = samples_paths.setdefault(settings.repo_id(org, settings.details_repo_name), {})
        for task, rows in shared.samples.items():
            tasks[task] = f"{model}/samples_{task}_{stamp}.jsonl"
            files[tasks[task]] = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    for repo_id, files in repos.items():
        files["README.md"] = dataset_card(results, settings, sorted(files), samples_paths.get(repo_id, {})).encode()
    return repos


def _stamp(date: Any) -> str:
    """The run's start (the results' `date`) as a path part: no colons."""
    try:
        moment = dt.datetime.fromisoformat(str(date))
    except ValueError:
        moment = dt.datetime.now(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H-%M-%S.%f")


def dataset_card(results: dict[str, Any], settings: HubSettings, paths: list[str], samples_paths: dict[str, str]) -> str:
    """A dataset card: one config per task's samples file (so the Hub's viewer shows them), the scores, provenance."""
    import yaml

    model = results.get("model_name", "?")
    configs = [{"config_name": task, "data_files": [{"split": "latest", "path": path}]} for task, path in samples_paths.items()]
    header = yaml.safe_dump({"pretty_name": f"Evaluation run of {model}", **({"configs": configs} if configs else {})}, sort_keys=False)
    lines = [f"---\n{header}---", f"# Evaluation run of {model}", "",
             f"Made by lmms-eval on {results.get('date')} (git {results.get('git_hash') or 'unknown'}). Files: " + ", ".join(f"`{path}`" for path in paths if path != "README.md") + ".",
             "", "| Task | Metric | Filter | Value | Stderr |", "|---|---|---|---|---|"]
    for section in ("results", "groups"):
        for task, entry in results.get(section, {}).items():
            for key, value in entry.items():
                metric, _, filter_name = key.partition(",")
                if filter_name and not metric.endswith("_stderr"):
                    lines.append(f"| {task} | {metric} | {filter_name} | {value} | {entry.get(f'{metric}_stderr,{filter_name}', '')} |")
    lines += ["", f"Model: `{results.get('config', {}).get('model')}` with args `{json.dumps(results.get('config', {}).get('model_args', {}))}`."]
    if settings.leaderboard_url:
        lines.append(f"Leaderboard: {settings.leaderboard_url}")
    if settings.point_of_contact:
        lines.append(f"Point of contact: {settings.point_of_contact}")
    return "\n".join(lines) + "\n"


def push_to_hub(settings: HubSettings, shared: SharedRun) -> list[str]:
    """Create each repo (if new) and commit its files; the commit URLs."""
    from huggingface_hub import CommitOperationAdd, HfApi

    # HF_ENDPOINT is read now, not when huggingface_hub was imported.
    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=settings.token)
    org = settings.hub_results_org or api.whoami()["name"]
    urls = []
    for repo_id, files in hub_files(shared, settings, org).items():
        api.create_repo(repo_id, repo_type="dataset", private=not settings.public_repo, exist_ok=True)
        operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=content) for path, content in files.items()]
        commit = api.create_commit(repo_id, operations, commit_message=f"lmms-eval results of {shared.results.get('model_name')}", repo_type="dataset")
        urls.append(str(commit.commit_url))
    return urls
