"""A data recipient's PACT events endpoint for tests: ``POST /auth/token`` (HTTP Basic,
one client) and ``POST /2/events`` recording every call (headers and JSON body)."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RECEIVER_CLIENT = ("recipient-client", "recipient-secret")
RECEIVER_TOKEN = "recipient-token-1"


class Receiver:
    """Runs on 127.0.0.1 (a free port) until ``close()``; ``calls`` lists what arrived."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.token_requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/auth/token":
                    receiver.token_requests += 1
                    user, pwd = RECEIVER_CLIENT
                    want = "Basic " + base64.b64encode(f"{user}:{pwd}".encode()).decode()
                    if self.headers.get("Authorization") != want:
                        self._reply(401, {"error": "invalid_client"})
                        return
                    self._reply(200, {"access_token": RECEIVER_TOKEN, "token_type": "Bearer"})
                    return
                receiver.calls.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)}
                )
                self._reply(200)

            def do_GET(self) -> None:
                self._reply(404, {"code": "NotFound", "message": self.path})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """The calls once ``n`` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout_s
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.calls

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
