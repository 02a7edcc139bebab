"""A stand-in for the part of the HF Hub API that huggingface_hub's whoami, create_repo
and create_commit use: repo creation, README metadata validation, the preupload check
(every file is sent inline, "regular") and the NDJSON commit. Bound to 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USER = "tester"


@dataclass
class FakeHub:
    repos: dict[str, dict[str, Any]] = field(default_factory=dict)  # "org/name" -> {"type", "private", "files": {path: bytes}}
    commits: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    authorizations: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                hub._note(self)
                if self.path.split("?")[0] == "/api/whoami-v2":
                    return self._json(200, {"type": "user", "name": USER, "orgs": [], "auth": {"type": "access_token"}})
                self._json(404, {"error": f"no route {self.path}"})

            def do_POST(self) -> None:
                hub._note(self)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, reply = hub._post(self.path.split("?")[0], body)
                self._json(status, reply)

            def _json(self, status: int, reply: dict[str, Any]) -> None:
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _note(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append((handler.command, handler.path))
        if handler.headers.get("Authorization"):
            self.authorizations.add(handler.headers["Authorization"])

    def _post(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if path == "/api/repos/create":
            return self._create(json.loads(body))
        if path == "/api/validate-yaml":
            return 200, {"errors": [], "warnings": []}
        # /api/{type}s/{org}/{name}/preupload/{revision} and .../commit/{revision}
        if len(parts) == 6 and parts[0] == "api" and parts[4] in ("preupload", "commit"):
            repo_id = f"{parts[2]}/{parts[3]}"
            if repo_id not in self.repos or self.repos[repo_id]["type"] + "s" != parts[1]:
                return 404, {"error": f"Repository {repo_id} not found"}
            if parts[4] == "preupload":
                files = json.loads(body)["files"]
                return 200, {"files": [{"path": item["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for item in files]}
            return self._commit(repo_id, body)
        return 404, {"error": f"no route {path}"}

    def _create(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        repo_id = f"{payload.get('organization') or USER}/{payload['name']}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo", "url": f"{self.endpoint}/datasets/{repo_id}"}
        self.repos[repo_id] = {"type": payload.get("type") or "model", "private": payload.get("visibility") == "private", "files": {}}
        return 200, {"url": f"{self.endpoint}/datasets/{repo_id}"}

    def _commit(self, repo_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        files = {}
        for line in lines:
            if line["key"] == "file":
                value = line["value"]
                assert value["encoding"] == "base64"
                files[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] != "header":
                return 400, {"error": f"this test hub takes inline files only, not {line['key']}"}
        self.repos[repo_id]["files"].update(files)
        oid = hashlib.sha1(body).hexdigest()
        self.commits.append({"repo": repo_id, "summary": header["summary"], "files": sorted(files), "oid": oid})
        return 200, {"commitUrl": f"{self.endpoint}/datasets/{repo_id}/commit/{oid}", "commitOid": oid, "pullRequestUrl": None}
