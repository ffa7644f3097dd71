"""A stand-in for APISIX's Admin API that records what it is sent."""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    api_key: str | None
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class AdminApi:
    """Answers every request with ``status``, on a given loopback port."""

    def __init__(self, port: int, *, status: int = 200) -> None:
        self.port = port
        self.status = status
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def puts(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "PUT"]

    def put_bodies(self) -> dict[str, Any]:
        """The last body PUT to each path, decoded, keyed by path."""
        return {r.path: r.json() for r in self.puts()}

    def start(self) -> "AdminApi":
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    self.headers.get("X-API-KEY"),
                    self.rfile.read(length),
                )
                with api._lock:
                    api.requests.append(request)
                body = json.dumps({"error_msg": f"status {api.status}"}).encode()
                self.send_response(api.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = _answer

        return Handler
