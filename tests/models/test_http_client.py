"""The HTTP/1.1 client of the API backends, against raw servers that send chosen bytes."""

from __future__ import annotations

import asyncio
import base64
import datetime
import gzip
import ssl
import zlib
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given, settings, strategies as st

from lmms_eval.models.api.http_client import ConnectFailed, ConnectionLost, HttpClient, ProtocolError, _Connection

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Seen"], Awaitable[None]]


class Seen:
    """What the raw server saw: one request head (and body) per request, and connections."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.bodies: list[bytes] = []
        self.connections = 0


async def read_request(reader: asyncio.StreamReader, seen: Seen) -> bool:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    except (asyncio.IncompleteReadError, ConnectionError):
        return False
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")), 0)
    seen.heads.append(head)
    seen.bodies.append(await reader.readexactly(length) if length else b"")
    return True


def reply(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def serving(script: Callable[[int], list[bytes] | None], close_after: Callable[[int], bool] = lambda n: False) -> Handler:
    """A handler answering the server's request n with script(n)'s chunks (None: close
    without a reply), closing the connection after it when close_after(n)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen) -> None:
        while await read_request(reader, seen):
            number = len(seen.heads) - 1
            chunks = script(number)
            if chunks is None:
                break
            for chunk in chunks:
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(0.005)  # separate reads on the client's side
            if close_after(number):
                break
        writer.close()

    return handle


async def with_server(handler: Handler, body: Callable[[str, Seen], Awaitable[None]], tls: ssl.SSLContext | None = None) -> Seen:
    seen = Seen()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        try:
            await handler(reader, writer, seen)
        except ConnectionError:
            pass

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        await body(f"{'https' if tls else 'http'}://127.0.0.1:{port}", seen)
    finally:
        server.close()
    return seen


def run(handler: Handler, body: Callable[[str, Seen], Awaitable[None]], tls: ssl.SSLContext | None = None) -> Seen:
    return asyncio.run(with_server(handler, body, tls))


def test_a_keep_alive_connection_is_reused_and_the_request_is_what_was_asked():
    async def body(base: str, seen: Seen) -> None:
        client = HttpClient({"Authorization": "Bearer k"})
        for number in range(3):
            answer = await client.request("POST", f"{base}/v1/chat?x=1", b'{"n": %d}' % number, timeout=5)
            assert (answer.status, answer.body) == (200, b"ok%d" % number)
            assert answer.headers["x-thing"] == "a, b"  # repeated fields joined
        await client.close()

    seen = run(serving(lambda n: [reply(b"ok%d" % n, "X-Thing: a", "X-Thing: b")]), body)
    assert seen.connections == 1
    head = seen.heads[0].split("\r\n")
    assert head[0] == "POST /v1/chat?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{head[1].rsplit(':', 1)[1]}" == head[1]
    assert "Authorization: Bearer k" in head and "Content-Type: application/json" in head
    assert seen.bodies == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']


def test_chunked_bodies_split_anywhere_informational_replies_and_gzip_are_read():
    payload = b'{"choices": []}' * 50
    packed = gzip.compress(payload)
    third = len(packed) // 3
    parts = (packed[:third], packed[third : 2 * third], packed[2 * third :])
    chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\nTrailer: x\r\n\r\n"
    message = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n" + chunked
    pieces = [message[i : i + 5] for i in range(0, 60, 5)] + [message[60:]]

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        for _ in range(2):
            answer = await client.request("GET", f"{base}/v1/models", timeout=5)
            assert answer.body == payload
        await client.close()

    seen = run(serving(lambda n: pieces), body)
    assert seen.connections == 1  # a chunked reply leaves the connection reusable
    assert "Content-Length" not in seen.heads[0]


def test_deflate_either_way_and_a_body_until_close():
    raw_deflate = zlib.compressobj(wbits=-15)
    raw = raw_deflate.compress(b"raw") + raw_deflate.flush()
    replies = [
        reply(zlib.compress(b"wrapped"), "Content-Encoding: deflate"),
        reply(raw, "Content-Encoding: deflate"),
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    ]

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        got = [(await client.request("GET", f"{base}/", timeout=5)).body for _ in range(3)]
        assert got == [b"wrapped", b"raw", b"until the end"]
        assert (await client.request("GET", f"{base}/", timeout=5)).body == b"again"  # a new connection
        await client.close()

    seen = run(serving(lambda n: [replies[n]] if n < 3 else [reply(b"again")], close_after=lambda n: n == 2), body)
    assert seen.connections == 2


def test_connection_close_and_http_1_0_replies_are_not_reused():
    replies = [reply(b"a", "Connection: close"), b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb", reply(b"c")]

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        assert [(await client.request("GET", f"{base}/", timeout=5)).body for _ in range(3)] == [b"a", b"b", b"c"]
        await client.close()

    assert run(serving(lambda n: [replies[n]], close_after=lambda n: n < 2), body).connections == 3


def test_a_reply_cut_mid_body_and_a_reset_before_any_reply_are_told_apart():
    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        with pytest.raises(ConnectionLost) as cut:
            await client.request("POST", f"{base}/", b"{}", timeout=5)
        assert cut.value.headers_complete
        with pytest.raises(ConnectionLost) as nothing:
            await client.request("POST", f"{base}/", b"{}", timeout=5)
        assert not nothing.value.headers_complete
        await client.close()

    scripts = [[b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"half"], None]
    run(serving(lambda n: scripts[n], close_after=lambda n: True), body)


def test_garbage_is_a_protocol_error_and_the_connection_is_not_reused():
    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        for garbage in (b"SMTP ready\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            with pytest.raises(ProtocolError):
                await client.request("GET", f"{base}/", timeout=5)
        with pytest.raises(ProtocolError, match="encoding"):
            await client.request("GET", f"{base}/", timeout=5)
        await client.close()

    garbage = [b"SMTP ready\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", reply(b"x", "Content-Encoding: br")]
    assert run(serving(lambda n: [garbage[n]]), body).connections == 4


def test_an_error_reply_is_read_only_up_to_the_limit():
    huge = b"e" * 200_000

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient(error_body_limit=1000)
        answer = await client.request("POST", f"{base}/", b"{}", timeout=5)
        assert (answer.status, answer.body) == (500, b"e" * 1000)
        assert (await client.request("POST", f"{base}/", b"{}", timeout=5)).body == b"fine"
        await client.close()

    seen = run(serving(lambda n: [reply(huge, status="500 Oops")] if n == 0 else [reply(b"fine")]), body)
    assert seen.connections == 2  # the rest of the error body was dropped with its connection


def test_a_silent_server_times_out_and_a_closed_port_fails_to_connect():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen) -> None:
        await read_request(reader, seen)
        await asyncio.sleep(5)

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        with pytest.raises(TimeoutError):
            await client.request("GET", f"{base}/", timeout=0.2)
        await client.close()

    run(silent, body)

    async def closed_port() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        client = HttpClient()
        with pytest.raises(ConnectFailed, match=f"cannot connect to 127.0.0.1:{port}"):
            await client.request("GET", f"http://127.0.0.1:{port}/", timeout=5)
        with pytest.raises(ConnectFailed, match="not an http"):
            await client.request("GET", "notaurl", timeout=5)
        await client.close()

    asyncio.run(closed_port())


def test_headers_with_line_breaks_are_refused():
    with pytest.raises(ValueError, match="line break"):
        HttpClient({"Authorization": "Bearer k\r\nX-Injected: 1"})


# --- proxies and TLS ---------------------------------------------------------------------


def self_signed(tmp_path) -> tuple[ssl.SSLContext, str]:
    """A server context with a certificate for 127.0.0.1, and the file to trust it by."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, str(cert_file)


async def start_proxy(log: list[str]) -> tuple[asyncio.AbstractServer, str]:
    """A forwarding proxy: absolute-form requests are passed on, CONNECT opens a tunnel."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        log.append(head)
        method, target, _ = head.split("\r\n")[0].split(" ")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            authority = target.split("/")[2]
            host, port = authority.rsplit(":", 1)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            path = "/" + target.split("/", 3)[3]
            upstream_writer.write(head.replace(target, path, 1).encode("latin-1"))
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    return server, f"http://user:p%40ss@127.0.0.1:{server.sockets[0].getsockname()[1]}"


def test_plain_http_through_a_proxy_sends_the_absolute_url_and_credentials():
    log: list[str] = []

    async def body(base: str, seen: Seen) -> None:
        proxy, proxy_url = await start_proxy(log)
        client = HttpClient()
        assert (await client.request("POST", f"{base}/v1/x", b"{}", timeout=5, proxy=proxy_url)).body == b"via proxy"
        await client.close()
        proxy.close()

    run(serving(lambda n: [reply(b"via proxy")]), body)
    first_line, *lines = log[0].split("\r\n")
    assert first_line.startswith("POST http://127.0.0.1:") and first_line.endswith("/v1/x HTTP/1.1")
    assert f"Proxy-Authorization: Basic {base64.b64encode(b'user:p@ss').decode()}" in lines


def test_https_directly_and_through_a_connect_tunnel(tmp_path, monkeypatch):
    tls, cert_file = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert_file)  # the default context trusts the test's certificate
    log: list[str] = []

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        assert (await client.request("POST", f"{base}/v1/x", b"{}", timeout=5)).body == b"secure"
        proxy, proxy_url = await start_proxy(log)
        tunnelled = HttpClient()
        for _ in range(2):
            assert (await tunnelled.request("POST", f"{base}/v1/x", b"{}", timeout=5, proxy=proxy_url)).body == b"secure"
        await client.close()
        await tunnelled.close()
        proxy.close()

    seen = run(serving(lambda n: [reply(b"secure")]), body, tls=tls)
    assert seen.connections == 2  # one direct, one tunnel reused for both requests
    assert log[0].startswith("CONNECT 127.0.0.1:") and "Proxy-Authorization: Basic" in log[0]
    assert all(head.startswith("POST /v1/x HTTP/1.1") for head in seen.heads)  # origin form inside the tunnel


def test_an_untrusted_certificate_fails_to_connect(tmp_path):
    tls, _ = self_signed(tmp_path)

    async def body(base: str, seen: Seen) -> None:
        client = HttpClient()
        with pytest.raises(ConnectFailed, match="cannot connect to 127.0.0.1"):
            await client.request("GET", f"{base}/", timeout=5)
        await client.close()

    run(serving(lambda n: [reply(b"x")]), body, tls=tls)


# --- generated replies, fed to the parser split anywhere ---------------------------------


class _Transport:
    """Enough of a transport for the parser: what was written, and whether it was closed."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def framed(body: bytes, framing: str, chunk_sizes: list[int]) -> bytes:
    if framing == "length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    if framing == "chunked":
        parts, rest = [], body
        for size in chunk_sizes:
            if not rest:
                break
            parts.append(rest[:size])
            rest = rest[size:]
        if rest:
            parts.append(rest)
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=3000),
    framing=st.sampled_from(["length", "chunked", "close"]),
    chunk_sizes=st.lists(st.integers(1, 700), max_size=8),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
    informational=st.booleans(),
)
def test_any_reply_split_anywhere_parses_to_its_body(body, framing, chunk_sizes, cuts, informational):
    message = (b"HTTP/1.1 100 Continue\r\n\r\n" if informational else b"") + framed(body, framing, chunk_sizes)
    points = sorted({min(cut, len(message)) for cut in cuts} | {0, len(message)})

    async def feed() -> tuple[bytes, bool]:
        connection = _Connection(error_body_limit=1 << 20)
        connection.connection_made(_Transport())
        reply = connection.exchange(b"GET / HTTP/1.1\r\n\r\n", bodyless=False)
        for start, end in zip(points, points[1:]):
            connection.data_received(message[start:end])
        if framing == "close":
            assert not reply.done()  # only the connection's end ends such a body
            connection.connection_lost(None)
        return (await reply).body, connection.reusable

    got, reusable = asyncio.run(feed())
    assert got == body
    assert reusable == (framing != "close")


@settings(max_examples=100, deadline=None)
@given(body=st.binary(min_size=1, max_size=2000), framing=st.sampled_from(["length", "chunked"]), keep=st.floats(0, 0.999))
def test_a_reply_cut_anywhere_after_its_headers_is_cut_off_and_before_them_is_not(body, framing, keep):
    message = framed(body, framing, [97])
    cut = int(len(message) * keep)
    head_end = message.index(b"\r\n\r\n") + 4

    async def feed() -> ConnectionLost:
        connection = _Connection(error_body_limit=1 << 20)
        connection.connection_made(_Transport())
        reply = connection.exchange(b"GET / HTTP/1.1\r\n\r\n", bodyless=False)
        connection.data_received(message[:cut])
        connection.connection_lost(ConnectionResetError(104, "Connection reset by peer"))
        with pytest.raises(ConnectionLost) as lost:
            await reply
        return lost.value

    assert asyncio.run(feed()).headers_complete == (cut >= head_end)
