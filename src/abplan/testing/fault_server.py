"""A small real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol and can be told
to fail: 429 (with and without Retry-After), 500/502/503, a hang past the client's timeout, a connection
reset, invalid JSON, a reply that is not a plan, and a reply cut off by max_tokens.

Faults are drawn from a seeded hash of (request body, attempt number), so a run is reproducible and a
retry of the same request may succeed. It bills every 200 response it serves, so tests can check that
the client counts each paid response exactly once.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS = (
    "429",
    "429-retry-after",
    "500",
    "502",
    "503",
    "hang",
    "reset",
    "bad-json",
    "not-a-plan",
    "length",
)
PLAN_REPLY = (
    "<discussion>A plan from the test server.</discussion>\n<predictions>\n"
    '{"name": "No gate", "ablated_part": "gate", "action": "REMOVE", "replacement": null, "metrics": ["accuracy"]}\n'
    '{"name": "Gate type", "ablated_part": "gate function", "action": "REPLACE", "replacement": ["tanh"], "metrics": ["accuracy"]}\n'
    "</predictions>"
)


class FaultServer:
    def __init__(
        self,
        rates: dict[str, float] | None = None,
        seed: int = 0,
        latency: float = 0.0,
        hang: float = 3.0,
        reply: Callable[[dict[str, Any]], str] | None = None,
        price_per_token: float = 1e-6,
    ) -> None:
        bad = set(rates or {}) - set(FAULT_KINDS)
        if bad:
            raise ValueError(f"unknown fault kinds: {sorted(bad)}")
        self.rates = dict(rates or {})
        self.seed = seed
        self.latency = latency
        self.hang = hang
        self.reply = reply or (lambda body: PLAN_REPLY)
        self.price_per_token = price_per_token
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()  # per request body
        self.faults: Counter[str] = Counter()
        self.requests = 0
        self.billed_usd = 0.0
        self.auth_headers: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FaultServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                server._send(self, 404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                server.handle(self, raw)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def draw(self, body_key: str, attempt: int) -> str | None:
        h = hashlib.sha256(f"{self.seed}:{body_key}:{attempt}".encode()).digest()
        u = int.from_bytes(h[:8], "big") / 2**64
        acc = 0.0
        for kind in FAULT_KINDS:
            acc += self.rates.get(kind, 0.0)
            if u < acc:
                return kind
        return None

    def handle(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        key = hashlib.sha256(raw).hexdigest()
        with self.lock:
            self.requests += 1
            self.attempts[key] += 1
            attempt = self.attempts[key]
            self.auth_headers.append(h.headers.get("authorization", ""))
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send(h, 400, {"error": {"message": "invalid request body"}})
            return
        if h.path.rstrip("/") != "/v1/chat/completions":
            self._send(h, 404, {"error": {"message": "not found"}})
            return
        if self.latency:
            time.sleep(self.latency)
        fault = self.draw(key, attempt)
        if fault:
            with self.lock:
                self.faults[fault] += 1
        if fault == "429":
            self._send(h, 429, {"error": {"message": "rate limited"}})
        elif fault == "429-retry-after":
            self._send(h, 429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
        elif fault in ("500", "502", "503"):
            self._send(h, int(fault), {"error": {"message": "server error"}})
        elif fault == "hang":
            time.sleep(self.hang)
            self._send(h, 503, {"error": {"message": "too late"}})
        elif fault == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
        elif fault == "bad-json":
            data = b'{"id": "x", "choices": [ {"message": '
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        else:
            text = "I am unable to produce that." if fault == "not-a-plan" else self.reply(body)
            finish = "length" if fault == "length" else "stop"
            if fault == "length":
                text = text[: len(text) // 2]
            pin = sum(len(m.get("content", "")) for m in body.get("messages", [])) // 4
            pout = len(text) // 4
            with self.lock:
                self.billed_usd += (pin + pout) * self.price_per_token
            self._send(
                h,
                200,
                {
                    "id": f"chatcmpl-{key[:8]}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "m"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": finish,
                        }
                    ],
                    "usage": {"prompt_tokens": pin, "completion_tokens": pout, "total_tokens": pin + pout},
                },
            )

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, obj: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(obj).encode()
        try:
            h.send_response(status)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main() -> None:  # pragma: no cover - for trying a client by hand
    import argparse

    ap = argparse.ArgumentParser(description="Serve chat completions on 127.0.0.1 with injected faults.")
    ap.add_argument("--rate", type=float, default=0.0, help="fault rate per kind")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with FaultServer({k: args.rate for k in FAULT_KINDS}) as s:
        print(s.base_url, flush=True)
        time.sleep(args.seconds)


if __name__ == "__main__":  # pragma: no cover
    main()
