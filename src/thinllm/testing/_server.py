"""A real HTTP server on 127.0.0.1 that answers with the same handler as the transport.

Streaming uses chunked transfer encoding; a cut stream or a reset closes the socket
mid-response; a timeout stalls until the client gives up or the server stops. On exit
every open connection is shut down and every handler thread joined, so nothing leaks.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._handler import Handler

__all__ = ["serve"]

# How long a ``timeout`` fault stalls at most: any sane client timeout is shorter.
_STALL_SECONDS = 120.0


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins handler threads

    def __init__(self, handler: Handler) -> None:
        self.fake = handler
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Wake idle keep-alive handlers so their threads can end."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        """Disable Nagle's algorithm: SSE frames are small and must not wait for ACKs."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output is not the place for an access log."""

    def do_GET(self) -> None:
        """Answer a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Answer a POST."""
        self._serve()

    def do_DELETE(self) -> None:
        """Answer a DELETE."""
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        raw = self._read_body()
        headers = dict(self.headers.items())
        wire = self.server.fake.handle(self.command, self.path, headers, raw)
        stopping = self.server.stopping
        if wire.delay > 0 and stopping.wait(wire.delay):
            self.close_connection = True
            return
        if wire.action == "timeout":
            stopping.wait(_STALL_SECONDS)
            self.close_connection = True
            return
        if wire.action == "reset":
            self.close_connection = True
            return
        self.send_response(wire.status)
        for name, value in wire.headers.items():
            self.send_header(name, value)
        if wire.frames is None:
            self.send_header("content-length", str(len(wire.body)))
            self.end_headers()
            self.wfile.write(wire.body)
            return
        chunks, broken = wire.frames_to_send()
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            if broken:
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped reading early (an abandoned stream); nothing to do.
            self.close_connection = True


@contextlib.contextmanager
def serve(handler: Handler) -> Iterator[str]:
    """Run the HTTP server in a thread; yield its base URL; stop it cleanly."""
    server = _Server(handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="thinllm-fake-vendor"
    )
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.stopping.set()
        server.shutdown()
        thread.join()
        server.drop_connections()
        server.server_close()
