"""Which servers an HTTP API backend may send to: one URL, several, or a file that a cluster
scheduler keeps up to date.

`base_url=URL1|URL2`, a `base_urls` list (in a --config file) or `base_url_file=PATH` (one
URL per line, `#` comments) name the servers. The file is re-read while the run goes, so
servers started later join and servers taken out of it drain. Only the choice of servers
lives here; sending requests over them is `spread.SpreadPool`'s job.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lmms_eval.errors import ModelError


def checked_url(url: str, where: str = "base_url") -> str:
    """An API base URL without its trailing slash. Anything but an http(s) URL naming a host
    is bad input, said at once: as a request target it would only fail every retry."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number, or an unbalanced [ in the host
        valid = False
    if not valid:
        raise ModelError(f"{where} must be an http:// or https:// URL with a host, such as http://127.0.0.1:8000/v1, not '{url}'")
    return url.rstrip("/")


def public_url(url: str) -> str:
    """The URL as results record it: without a user name or password in its host part."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class EndpointSource:
    """The servers of one run: a fixed list, or a file read again on every `current()`."""

    urls: tuple[str, ...] = ()
    file: Path | None = None

    def current(self) -> list[str]:
        """The URLs now; a file that is missing, empty or holds a bad line raises ModelError."""
        return read_url_file(self.file) if self.file is not None else list(self.urls)


def endpoint_source(base_url: str | None, base_urls: Sequence[str] | None, base_url_file: str | None) -> EndpointSource | None:
    """The servers the args name when they give a list (`|`-joined or `base_urls`) or a file;
    None for a plain `base_url` (or none: the backend's default), which the single-server
    path serves as before."""
    named = [name for name, value in (("base_url", base_url), ("base_urls", base_urls), ("base_url_file", base_url_file)) if value]
    if len(named) > 1:
        raise ModelError(f"pass one of base_url, base_urls and base_url_file, not {' and '.join(named)}")
    if base_url_file:
        source = EndpointSource(file=Path(base_url_file).expanduser())
        source.current()  # a missing or empty file is an error now, not after the first task
        return source
    if base_urls is not None and not isinstance(base_urls, (list, tuple)):
        raise ModelError(f"base_urls must be a list of URLs, not {base_urls!r}")
    urls = list(base_urls) if base_urls else (base_url.split("|") if base_url and "|" in base_url else [])
    if not urls:
        return None
    checked = [checked_url(str(url), "each URL of base_url" if base_url else "each item of base_urls") for url in urls]
    repeated = sorted({url for url in checked if checked.count(url) > 1})
    if repeated:
        raise ModelError(f"base_url lists {repeated[0]} more than once")
    return EndpointSource(urls=tuple(checked))


def read_url_file(path: Path) -> list[str]:
    """One URL per line; blank lines and `#` comments (whole-line or after a URL) are skipped,
    and a URL listed twice counts once (a restarted job may append its URL again)."""
    where = f"base_url_file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"{where} does not exist; write one server URL per line into it") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"{where} cannot be read: {error}") from None
    urls: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            url = checked_url(entry, f"{where}, line {number}")
            if url not in urls:
                urls.append(url)
    if not urls:
        raise ModelError(f"{where} lists no server URL (one http(s) URL per line; # starts a comment)")
    return urls


def url_on(endpoint_url: str, base_url: str, url: str) -> str:
    """`url`, made for `base_url` by a protocol hook, pointed at another server of the same API."""
    return endpoint_url + url[len(base_url):] if url.startswith(base_url) else url
