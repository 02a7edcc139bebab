"""A small HTTP/1.1 client on asyncio for the JSON APIs the API backends call.

Why not aiohttp: measured here (benchmarks/bench_cli.py, 2,000 image requests with 256 in
flight on 2 cores), aiohttp's client cost 0.3-0.4 ms of CPU per request and 0.25 s to
import, against about 0.1 ms per request for this one. On a machine where the inference
server shares the cores, that CPU was most of the client's time. The backends need little
of HTTP: one request at a time per keep-alive connection, a JSON body out, a whole reply
back, a timeout per exchange, proxies from the environment and TLS.

What a reply may look like: a status line and headers, then a body framed by
Content-Length, by chunked transfer encoding, or by the server closing the connection;
gzip or deflate content encoding is undone. Anything else is a protocol error.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Any

MAX_HEAD_BYTES = 64 * 1024  # status line and headers; more is not an HTTP reply we can use
NO_BODY_STATUSES = frozenset({204, 304})
DEFAULT_PORTS = {"http": 80, "https": 443}


class HttpError(Exception):
    """Why an exchange got no usable reply (the connection is closed afterwards)."""


class ConnectFailed(HttpError):
    """No connection could be opened (refused, unknown host, TLS or proxy failure)."""


class ConnectionLost(HttpError):
    """The connection broke before the whole reply arrived; `headers_complete` says
    whether its status and headers had arrived (a reply cut off mid-body)."""

    def __init__(self, message: str, headers_complete: bool):
        super().__init__(message)
        self.headers_complete = headers_complete


class ProtocolError(HttpError):
    """The peer's bytes are not an HTTP/1.x reply."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]  # names lower-cased; repeated fields joined with ", "
    body: bytes


@dataclass(frozen=True)
class _Target:
    """Where a URL's requests go: the connection's peer and the request line's target."""

    scheme: str
    host: str
    port: int
    path: str  # request-target: origin form, or the absolute URL through an http proxy
    host_header: str
    proxy: tuple[str, int, str | None] | None  # (host, port, Proxy-Authorization) when proxied

    @property
    def pool_key(self) -> tuple[Any, ...]:
        return (self.scheme, self.host, self.port, self.proxy)


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if DEFAULT_PORTS.get(scheme) == port else f"{shown}:{port}"


def _parse_target(url: str, proxy: str | None) -> _Target:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConnectFailed(f"not an http(s) URL: {url}")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    via = _parse_proxy(proxy) if proxy else None
    if via is not None and parts.scheme == "http":
        path = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
    return _Target(parts.scheme, parts.hostname, port, path, _host_header(parts.hostname, port, parts.scheme), via)


def _parse_proxy(proxy: str) -> tuple[str, int, str | None]:
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise ConnectFailed(f"unsupported proxy {parts.scheme}://{parts.hostname or ''} (only http:// proxies are)")
    authorization = None
    if parts.username is not None:
        credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
    return parts.hostname, parts.port or 80, authorization


def _header_lines(headers: dict[str, str]) -> bytes:
    for name, value in headers.items():
        if any(character in f"{name}{value}" for character in "\r\n"):
            raise ValueError(f"HTTP header {name!r} holds a line break")
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")


class _Framing:
    """How the body of the reply being read ends."""

    NONE = 0
    LENGTH = 1
    CHUNKED = 2
    CLOSE = 3


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one exchange at a time. The reply is parsed as bytes
    arrive and handed over whole through a future."""

    def __init__(self, error_body_limit: int):
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._error_body_limit = error_body_limit
        self._buffer = bytearray()
        self._reply: asyncio.Future[HttpReply] | None = None
        self._reset_reply_state()

    def _reset_reply_state(self) -> None:
        self._status = 0
        self._headers: dict[str, str] = {}
        self._head_done = False
        self._framing = _Framing.NONE
        self._length = 0  # LENGTH: the body's size
        self._keep_alive = False
        self._chunks: list[bytes] = []
        self._chunked_size = 0
        self._chunk_left = -1  # CHUNKED: bytes left of this chunk (-1: a size line is next; -2: trailers)
        self.reusable = False
        self._bodyless = False

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._reply is None or self._reply.done():
            self._close()  # bytes nobody asked for: this connection cannot be trusted again
            return
        self._buffer += data
        try:
            self._parse()
        except ProtocolError as error:
            self._fail(error)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost settles any reply in progress

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._reply is None or self._reply.done():
            return
        if self._head_done and self._framing == _Framing.CLOSE:
            self._finish(bytes(self._buffer), reusable=False)
            return
        reason = f"{type(exc).__name__}: {exc}" if exc else "the server closed the connection"
        if self._head_done:
            reason = f"the server closed the connection mid-reply ({reason})" if exc else "the server closed the connection mid-reply"
        self._reply.set_exception(ConnectionLost(reason, headers_complete=self._head_done))

    # --- one exchange --------------------------------------------------------------------

    def exchange(self, request: bytes, bodyless: bool) -> asyncio.Future[HttpReply]:
        assert self.transport is not None
        self._reset_reply_state()
        self._bodyless = bodyless
        self._buffer.clear()
        self._reply = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._reply

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: HttpError) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
        self.abort()

    def _finish(self, body: bytes, reusable: bool) -> None:
        self.reusable = reusable
        assert self._reply is not None
        if not self._reply.done():
            self._reply.set_result(HttpReply(self._status, self._headers, body))

    # --- parsing ---------------------------------------------------------------------------

    def _parse(self) -> None:
        while not self._head_done:
            if not self._parse_head():
                return
        if self._framing == _Framing.LENGTH:
            self._parse_length_body()
        elif self._framing == _Framing.CHUNKED:
            self._parse_chunked_body()
        elif self._framing == _Framing.CLOSE:
            self._check_error_limit(len(self._buffer))

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise ProtocolError(f"no end of the reply's headers within {MAX_HEAD_BYTES} bytes")
            return False
        lines = bytes(self._buffer[:end]).split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"not an HTTP reply: {bytes(lines[0][:80])!r}")
        status = int(code)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name.strip():
                raise ProtocolError(f"malformed header line: {line[:80]!r}")
            key = name.strip().lower().decode("latin-1")
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        del self._buffer[: end + 4]
        if 100 <= status < 200:  # informational (100 Continue, 103 Early Hints): the real reply follows
            return True
        self._status, self._headers, self._head_done = status, headers, True
        self._choose_framing(version)
        return True

    def _choose_framing(self, version: bytes) -> None:
        headers = self._headers
        keep_alive = version == b"HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        if self._bodyless or self._status in NO_BODY_STATUSES:
            self._framing = _Framing.NONE
            self._finish(b"", reusable=keep_alive and not self._buffer)
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._framing = _Framing.CHUNKED
        elif "content-length" in headers:
            length = headers["content-length"].split(",")[0].strip()
            if not length.isdigit():
                raise ProtocolError(f"bad Content-Length: {headers['content-length'][:40]!r}")
            self._framing = _Framing.LENGTH
            self._length = int(length)
        else:
            self._framing = _Framing.CLOSE
        self._keep_alive = keep_alive

    def _parse_length_body(self) -> None:
        have = len(self._buffer)
        if self._check_error_limit(have):
            return
        if have >= self._length:  # bytes beyond the body were never asked for: not reused
            self._finish(bytes(self._buffer[: self._length]), reusable=self._keep_alive and have == self._length)

    def _parse_chunked_body(self) -> None:
        buffer = self._buffer
        while True:
            if self._chunk_left == -1:  # a chunk-size line
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                size_text = bytes(buffer[:end]).split(b";")[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
                del buffer[: end + 2]
                self._chunk_left = size if size else -2
            elif self._chunk_left == -2:  # trailer lines, up to an empty one
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                del buffer[: end + 2]
                if end == 0:
                    self._finish(b"".join(self._chunks), reusable=self._keep_alive and not buffer)
                    return
            else:
                if len(buffer) < self._chunk_left + 2:
                    return
                if buffer[self._chunk_left : self._chunk_left + 2] != b"\r\n":
                    raise ProtocolError("a chunk does not end where its size says")
                self._chunks.append(bytes(buffer[: self._chunk_left]))
                self._chunked_size += self._chunk_left
                del buffer[: self._chunk_left + 2]
                self._chunk_left = -1
                if self._check_error_limit(self._chunked_size):
                    return

    def _check_error_limit(self, received: int) -> bool:
        """An error reply is read up to the limit only: the rest is dropped with the connection."""
        if self._status < 300 or received < self._error_body_limit:
            return False
        kept = b"".join(self._chunks) if self._framing == _Framing.CHUNKED else bytes(self._buffer)
        self._finish(kept[: self._error_body_limit], reusable=False)
        self._close()
        return True


class HttpClient:
    """Keep-alive connections per host (and proxy), reused while the server keeps them open.

    Belongs to the event loop it is first used on. Every exchange has one timeout, from
    opening the connection to the last byte of the reply; a connection whose exchange
    failed or timed out is closed, never reused.
    """

    def __init__(self, headers: dict[str, str] | None = None, error_body_limit: int = 64 * 1024, user_agent: str = "lmms-eval"):
        base = {"User-Agent": user_agent, "Accept": "*/*", "Accept-Encoding": "gzip, deflate", **(headers or {})}
        self._default_headers = _header_lines(base)
        self._error_body_limit = error_body_limit
        self._idle: dict[tuple[Any, ...], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._targets: dict[tuple[str, str | None], _Target] = {}
        self._heads: dict[tuple[str, str, str | None], bytes] = {}
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    async def request(self, method: str, url: str, body: bytes | None = None, *, timeout: float, proxy: str | None = None, content_type: str = "application/json") -> HttpReply:
        """Send one request and read its whole reply. Raises TimeoutError, or an HttpError."""
        if self._closed:
            raise ConnectFailed("the HTTP client is closed")
        target = self._target(url, proxy)
        message = self._head(method, url, proxy, target, body is not None, content_type)
        if body is not None:
            message += b"Content-Length: %d\r\n\r\n" % len(body) + body
        else:
            message += b"\r\n"
        async with asyncio.timeout(timeout):
            connection = await self._connection(target)
            try:
                reply = await connection.exchange(message, bodyless=method == "HEAD")
            except BaseException:
                self._discard(connection)
                raise
        self._release(target, connection)
        return HttpReply(reply.status, reply.headers, _decoded(reply.body, reply.headers.get("content-encoding", "")))

    async def close(self) -> None:
        self._closed = True
        for connection in list(self._open):
            connection.abort()
        self._open.clear()
        self._idle.clear()

    # --- targets and request heads ----------------------------------------------------------

    def _target(self, url: str, proxy: str | None) -> _Target:
        key = (url, proxy)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = _parse_target(url, proxy)
        return target

    def _head(self, method: str, url: str, proxy: str | None, target: _Target, has_body: bool, content_type: str) -> bytes:
        key = (method, url, proxy)
        head = self._heads.get(key)
        if head is None:
            lines = f"{method} {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n".encode("latin-1") + self._default_headers
            if target.proxy is not None and target.proxy[2] and target.scheme == "http":
                lines += f"Proxy-Authorization: {target.proxy[2]}\r\n".encode("latin-1")
            if has_body:
                lines += f"Content-Type: {content_type}\r\n".encode("latin-1")
            head = self._heads[key] = lines
        return head

    # --- connections ---------------------------------------------------------------------------

    async def _connection(self, target: _Target) -> _Connection:
        idle = self._idle.get(target.pool_key)
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.transport is not None and not connection.transport.is_closing():
                return connection
            self._open.discard(connection)
        connection = await self._connect(target)
        self._open.add(connection)
        return connection

    def _release(self, target: _Target, connection: _Connection) -> None:
        if connection.reusable and not connection.closed and not self._closed:
            self._idle.setdefault(target.pool_key, []).append(connection)
        else:
            self._discard(connection)

    def _discard(self, connection: _Connection) -> None:
        connection.abort()
        self._open.discard(connection)

    async def _connect(self, target: _Target) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port = (target.proxy[0], target.proxy[1]) if target.proxy else (target.host, target.port)
        direct_tls = target.scheme == "https" and target.proxy is None
        make = lambda: _Connection(self._error_body_limit)  # noqa: E731 - a protocol factory
        try:
            if direct_tls:
                _, connection = await loop.create_connection(make, host, port, ssl=self._tls_context(), server_hostname=target.host)
            else:
                _, connection = await loop.create_connection(make, host, port)
        except OSError as error:  # refused, unreachable, unknown host (gaierror), TLS (SSLError)
            where = f"proxy {host}:{port}" if target.proxy else f"{host}:{port}"
            raise ConnectFailed(f"cannot connect to {where}: {error.strerror or error}") from None
        if target.scheme == "https" and target.proxy is not None:
            await self._tunnel(connection, target)
        return connection

    async def _tunnel(self, connection: _Connection, target: _Target) -> None:
        """CONNECT through the proxy, then TLS to the target over the tunnel."""
        assert target.proxy is not None
        authority = f"{target.host}:{target.port}"
        lines = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if target.proxy[2]:
            lines += f"Proxy-Authorization: {target.proxy[2]}\r\n"
        try:
            reply = await connection.exchange(f"{lines}\r\n".encode("latin-1"), bodyless=True)
            if reply.status != 200:
                raise ConnectFailed(f"proxy {target.proxy[0]}:{target.proxy[1]} refused to connect to {authority} (HTTP {reply.status})")
            loop = asyncio.get_running_loop()
            assert connection.transport is not None
            connection.transport = await loop.start_tls(connection.transport, connection, self._tls_context(), server_hostname=target.host)  # type: ignore[assignment]
        except (OSError, HttpError) as error:
            connection.abort()
            if isinstance(error, ConnectFailed):
                raise
            raise ConnectFailed(f"cannot connect to {authority} through proxy {target.proxy[0]}:{target.proxy[1]}: {error}") from None

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:  # loading the CA certificates costs ~35 ms: only for https
            self._tls = ssl.create_default_context()
        return self._tls


def _decoded(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, wbits=31)
        if encoding == "deflate":  # zlib-wrapped, as the RFC says, or raw, as some servers send
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, wbits=-15)
    except zlib.error as error:
        raise ProtocolError(f"the reply's {encoding} body does not decompress: {error}") from None
    raise ProtocolError(f"the reply is in an encoding this client cannot read: {encoding}")
