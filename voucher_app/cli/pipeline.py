"""Many small files from one web server, requested ahead on one connection (HTTP/1.1 pipelining).

A tiled log is thousands of small immutable files, and the auditor reading them is busy hashing
on one core. Threads fetching beside it took the interpreter lock from it at every answer (the
tiles audit of a million entries from a local server took 1.73x the folder audit). Here nothing
runs beside the audit: the requests for the next files are written ahead on one kept-alive
connection, which a server answers in order (RFC 9112 §9.3.2), and each answer is read when its
file is wanted, by then usually long arrived. `http.client` parses the answers.

A server may close a connection after any answer: at its keep-alive limit, or after every one
(gunicorn's sync workers keep no connection alive). The requests it left unanswered are sent
again on a new connection (a GET may be repeated), and never more of them ahead than the last
connection answered: against a server that answers one request per connection, one at a time.
"""

from __future__ import annotations

import gzip
import http.client
import io
import itertools
import socket
import ssl
import urllib.parse
import zlib
from collections import deque
from collections.abc import Generator, Iterable
from typing import cast

#: How a connection the server closed shows itself, in plain TCP and under TLS.
_CLOSED = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)
#: Requests written ahead of the answer being read: enough to keep a server busy across a
#: round trip, few enough that the answers waiting stay within a few megabytes.
AHEAD = 32


class _SharedReader(io.BufferedReader):
    """The connection's one read buffer. Each `HTTPResponse` reads its answer from it and then
    closes it: the close is ignored, or the answers already buffered behind it would be lost."""

    def close(self) -> None:
        pass

    def close_for_good(self) -> None:
        super().close()


class _Connection:
    """One socket, its shared read buffer, and the requests it has been sent."""

    def __init__(self, parts: urllib.parse.SplitResult, timeout: float) -> None:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sock = socket.create_connection((parts.hostname or "", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.set_alpn_protocols(["http/1.1"])
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        self.sock = sock
        self.reader = _SharedReader(socket.SocketIO(sock, "rb"))
        self.host = parts.netloc.rpartition("@")[2]
        self.asked = 0  # requests sent
        self.answered = 0
        self.writable = True

    @property
    def waiting(self) -> int:
        """Requests sent and not yet answered."""
        return self.asked - self.answered

    def send(self, paths: list[str]) -> None:
        """Write the requests for `paths`; a connection the server closed is left to be read,
        as it may still hold answers to the requests written before."""
        if not paths or not self.writable:
            return
        request = "".join(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept-Encoding: identity\r\n\r\n"
            for path in paths
        )
        try:
            self.sock.sendall(request.encode("ascii"))
        except _CLOSED:
            self.writable = False
            return
        self.asked += len(paths)

    def answer(self) -> tuple[int, bytes, bool]:
        """The next answer: its status, its body, and whether the server closes after it."""
        while True:  # `begin` passes over 100 Continue only: 103 Early Hints precede answers too
            answer = http.client.HTTPResponse(cast(socket.socket, self), method="GET")
            answer.begin()
            if not 100 <= answer.status < 200:
                break
        body = _decoded(answer.read(), answer.getheader("Content-Encoding", "identity"))
        self.answered += 1
        return answer.status, body, answer.will_close

    def makefile(self, mode: str) -> _SharedReader:  # what `HTTPResponse` reads from
        return self.reader

    def close(self) -> None:
        self.reader.close_for_good()
        self.sock.close()


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body as the file holds it. Asked for as it is (`identity`), yet a cache may gzip it
    all the same: that is undone; any other coding is refused."""
    coding = encoding.strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise http.client.HTTPException(f"unsupported Content-Encoding {encoding!r}")
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise http.client.HTTPException(f"a gzip body that does not decompress: {exc}") from exc


class Pipeline:
    """GETs of paths below one base URL, written ahead on one kept-alive connection."""

    def __init__(self, base_url: str, *, timeout: float, ahead: int = AHEAD) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.parts = parts._replace(path=parts.path.rstrip("/") + "/", query="", fragment="")
        self.timeout = timeout
        self.ahead = ahead
        #: The answers the server gives on a connection before closing it: None while it has
        #: closed none. Told by `Connection: close`, it is known; when the server only drops
        #: connections (the answers it sent after a request it did not read may be lost with
        #: them), it is a lower bound, doubled each time a connection gives that many.
        self.per_connection: int | None = None
        self._told = False
        self._busy = False
        self._connection: _Connection | None = None

    def get_all(self, paths: Iterable[str]) -> Generator[tuple[str, int, bytes], None, None]:
        """(path, HTTP status, body) for each of `paths` below the base URL, in order. A
        connection closed with requests unanswered is opened again and they are sent again;
        one closed unanswered with a single request on it is an error (`OSError` or
        `http.client.HTTPException`), as is a timeout. `paths` are relative, URL-safe ASCII."""
        if self._busy:
            raise RuntimeError("a Pipeline answers one get_all at a time")
        self._busy = True
        wanted = iter(paths)
        pending: deque[str] = deque()  # asked for, not answered; the first `waiting` were sent
        try:
            while True:
                pending.extend(itertools.islice(wanted, max(0, self.ahead - len(pending))))
                if not pending:
                    return
                connection = self._open()
                end = len(pending)
                if self.per_connection is not None:
                    end = min(end, connection.waiting + self.per_connection - connection.asked)
                unsent = itertools.islice(pending, connection.waiting, end)
                connection.send([self.parts.path + path for path in unsent])
                try:
                    status, body, closes = connection.answer()
                except _CLOSED:
                    self.close()
                    if not self._dropped(connection):
                        raise
                    continue
                self._answered(connection, closes)
                yield pending.popleft(), status, body
        finally:
            self._busy = False
            if pending:  # abandoned mid-way: its answers would be read as the next ones'
                self.close()

    def _dropped(self, connection: _Connection) -> bool:
        """Learn from a connection the server dropped: False when it will not answer at all."""
        if connection.answered:
            if not self._told:
                self.per_connection = connection.answered
        elif connection.asked <= 1:
            return False  # closed on a single request, unanswered
        else:  # closed unanswered, perhaps on the requests it had not read
            self.per_connection, self._told = 1, False
        return True

    def _answered(self, connection: _Connection, closes: bool) -> None:
        """Learn from an answer: the server's word that it closes, or a connection that has
        been sent all it may be."""
        if closes:
            self.close()
            self.per_connection, self._told = connection.answered, True
        elif connection.asked == self.per_connection and not connection.waiting:
            self.close()  # it would have answered more
            self.per_connection *= 1 if self._told else 2

    def _open(self) -> _Connection:
        if self._connection is None:
            self._connection = _Connection(self.parts, self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
