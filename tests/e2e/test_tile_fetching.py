"""How `voucher-audit` fetches a tiled log's thousands of small files (`cli.pipeline`), against
the standard library's web server set up as servers really are: keeping connections alive
(HTTP/1.1), closing them after a few answers with `Connection: close` (a keep-alive limit, as
nginx's `keepalive_requests`), dropping them without a word, answering one request per
connection (HTTP/1.0), closing before answering, or sending 103 Early Hints first; in plain TCP
and under TLS. Whatever the server does, the files come back whole and in order, or the audit
says it cannot read them; gunicorn's own behaviour is met in `test_gunicorn_flows.py`."""

from __future__ import annotations

import functools
import gzip
import http.client
import itertools
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from voucher_app.cli.audit import main as voucher_audit
from voucher_app.cli.pipeline import AHEAD, Pipeline

FILES = [f"f/{n:03}" for n in range(100)]


class Recording(SimpleHTTPRequestHandler):
    """The folder's files, one connection per handler, every request recorded with whether the
    next one had already arrived (it stays in the socket: the handler reads without a buffer)."""

    protocol_version = "HTTP/1.1"
    rbufsize = 0
    answers_per_connection: int | None = None  # then `Connection: close`
    drops_after: int | None = None  # answers, then the connection is dropped without a word
    refuses_from: int | None = None  # connections from this one on are closed unanswered
    early_hints = False  # each answer preceded by 103 Early Hints
    coding: str | None = None  # "gzip": the files gzipped whatever was asked; else named so
    seen: list[tuple[int, str, bool]]  # (connection, path, the next request already waiting)
    connections: Iterator[int]

    def setup(self) -> None:
        super().setup()
        self.number, self.answered = next(self.connections), 0

    def do_GET(self) -> None:
        if self.refuses_from is not None and self.number >= self.refuses_from:
            self.close_connection = True
            return
        if self.early_hints:
            self.send_response_only(103, "Early Hints")
            self.send_header("Link", "</f/099>; rel=preload")
            super().end_headers()
        self.seen.append((self.number, self.path, next_request_waiting(self.connection)))
        if self.coding is not None:
            self.answered += 1
            self.send_coded()
            return
        self.answered += 1
        if self.answered == self.answers_per_connection:
            self.close_connection = True
        super().do_GET()
        if self.answered == self.drops_after:
            self.close_connection = True

    def send_coded(self) -> None:
        data = Path(self.translate_path(self.path)).read_bytes()
        body = gzip.compress(data) if self.coding == "gzip" else data
        self.send_response(200)
        self.send_header("Content-Encoding", self.coding or "")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        if self.answered == self.answers_per_connection:
            self.send_header("Connection", "close")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def next_request_waiting(connection: socket.socket) -> bool:
    if isinstance(connection, ssl.SSLSocket):
        return bool(connection.pending())
    try:
        return bool(connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False


Serve = Callable[..., tuple[str, list[tuple[int, str, bool]]]]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """serve(**handler settings) -> (URL, the requests it records), over a folder of FILES."""
    for name in FILES:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(f"the contents of {name}\n".encode() * 30)
    servers: list[ThreadingHTTPServer] = []

    def start(
        tls: ssl.SSLContext | None = None, **settings: object
    ) -> tuple[str, list[tuple[int, str, bool]]]:
        seen: list[tuple[int, str, bool]] = []
        handler = type(
            "Handler", (Recording,), {"seen": seen, "connections": itertools.count(), **settings}
        )
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path))
        )
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def fetched(url: str) -> list[bytes]:
    pipeline = Pipeline(url, timeout=10)
    try:
        answers = list(pipeline.get_all(FILES))
    finally:
        pipeline.close()
    assert [(path, status) for path, status, _ in answers] == [(p, 200) for p in FILES]
    return [body for _, _, body in answers]


def contents(tmp_path: Path) -> list[bytes]:
    return [(tmp_path / name).read_bytes() for name in FILES]


def test_a_server_keeping_its_connection_alive_gets_the_requests_ahead_on_one(
    serve: Serve, tmp_path: Path
) -> None:
    url, seen = serve()
    assert fetched(url) == contents(tmp_path)
    assert [path for _, path, _ in seen] == ["/" + name for name in FILES]
    assert {connection for connection, _, _ in seen} == {0}
    # Written ahead: while it answered, the next request was waiting, except for the last ones
    # of each window the client had not written yet.
    waiting = sum(ahead for _, _, ahead in seen)
    assert waiting >= len(FILES) - len(FILES) // AHEAD - 2, seen


def test_a_keep_alive_limit_ends_each_connection_and_the_rest_are_asked_again(
    serve: Serve, tmp_path: Path
) -> None:
    url, seen = serve(answers_per_connection=7)
    assert fetched(url) == contents(tmp_path)
    by_connection = itertools.groupby(seen, key=lambda record: record[0])
    answered = [[path for _, path, _ in records] for _, records in by_connection]
    assert all(len(paths) <= 7 for paths in answered), answered
    # This server closes with requests unread: its operating system then resets the connection,
    # and answers the client had not read yet may be lost with it (so some were answered twice).
    # Told the limit by `Connection: close`, the client asks at most 7 on each connection, and
    # still ahead: one connection per 7 files or about, not one per file.
    assert len(answered) <= 2 * -(-len(FILES) // 7), answered
    assert sum(ahead for _, _, ahead in seen) >= len(seen) // 2, seen


def test_a_connection_dropped_without_a_word_is_opened_again(serve: Serve, tmp_path: Path) -> None:
    url, seen = serve(drops_after=3)
    assert fetched(url) == contents(tmp_path)
    by_connection = itertools.groupby(seen, key=lambda record: record[0])
    answered = [[path for _, path, _ in records] for _, records in by_connection]
    assert all(len(paths) <= 3 for paths in answered), answered
    # Never told why, the client keeps to what a connection answered before it was dropped.
    assert len(answered) < len(FILES), answered


def test_a_server_answering_one_request_per_connection_is_asked_one_at_a_time(
    serve: Serve, tmp_path: Path
) -> None:
    url, seen = serve(protocol_version="HTTP/1.0")
    assert fetched(url) == contents(tmp_path)
    assert [path for _, path, _ in seen] == ["/" + name for name in FILES]
    assert len({connection for connection, _, _ in seen}) == len(FILES)


def test_a_server_closing_before_any_answer_cannot_be_read(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    url, seen = serve(refuses_from=0)
    assert voucher_audit([url, "--tiles", "--vkey", "unused"]) == 2
    assert f"cannot read {url}checkpoint" in capsys.readouterr().err
    assert seen == []


def test_a_missing_file_is_named_with_the_servers_answer(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = serve()
    assert voucher_audit([url + "nowhere", "--tiles", "--vkey", "unused"]) == 2
    assert capsys.readouterr().err == f"ERROR cannot read {url}nowhere/checkpoint: HTTP 404\n"


def test_interim_answers_before_each_answer_are_passed_over(serve: Serve, tmp_path: Path) -> None:
    url, seen = serve(early_hints=True)
    assert fetched(url) == contents(tmp_path)
    assert len(seen) == len(FILES)


def test_a_server_that_stops_answering_after_its_limit_is_given_up_on(serve: Serve) -> None:
    url, seen = serve(answers_per_connection=3, refuses_from=1)
    pipeline = Pipeline(url, timeout=10)
    with pytest.raises((OSError, http.client.HTTPException)):
        list(pipeline.get_all(FILES))
    pipeline.close()
    assert len(seen) == 3
    assert max(connection for connection, _, _ in seen) == 0


def test_one_pipeline_answers_one_reading_at_a_time(serve: Serve) -> None:
    url, _ = serve()
    pipeline = Pipeline(url, timeout=10)
    first = pipeline.get_all(FILES)
    assert next(first)[0] == FILES[0]
    with pytest.raises(RuntimeError, match="one get_all at a time"):
        next(pipeline.get_all(FILES))
    first.close()  # abandoned: the connection goes with its unread answers
    assert [path for path, _, _ in pipeline.get_all(FILES[:3])] == FILES[:3]
    pipeline.close()


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context with a certificate for localhost, which clients are made to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    trusting = functools.partial(ssl.create_default_context, cafile=str(cert_file))
    monkeypatch.setattr(ssl, "create_default_context", trusting)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.mark.parametrize("settings", [{"answers_per_connection": 7}, {"drops_after": 5}])
def test_over_tls_a_closed_connection_is_opened_again_too(
    serve: Serve, tls: ssl.SSLContext, tmp_path: Path, settings: dict[str, int]
) -> None:
    url, seen = serve(tls=tls, **settings)
    assert fetched(url.replace("http://127.0.0.1", "https://localhost")) == contents(tmp_path)
    assert len({connection for connection, _, _ in seen}) > 1


def test_files_gzipped_though_asked_for_as_they_are_are_unzipped(
    serve: Serve, tmp_path: Path
) -> None:
    url, _ = serve(coding="gzip")
    assert fetched(url) == contents(tmp_path)


def test_a_content_coding_it_cannot_undo_is_a_source_that_cannot_be_read(
    serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "checkpoint").write_bytes(b"as brotli would have it")
    url, _ = serve(coding="br")
    assert voucher_audit([url, "--tiles", "--vkey", "unused"]) == 2
    assert capsys.readouterr().err == (
        f"ERROR cannot read {url}checkpoint: unsupported Content-Encoding 'br'\n"
    )
