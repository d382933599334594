"""The viewer's server: the standard library's threading HTTP server on 127.0.0.1, GET and HEAD only.

A request names a page of the `Site` or nothing: the path is never joined onto a folder, so `..`,
encoded `%2e%2e`, absolute paths and symlinks cannot reach a file. A path that tries is refused with
403, an unknown page is 404, any other method 405.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from abplan.view.pages import CSP, Site, safe_file_name

HOST = "127.0.0.1"
_READ_ONLY = "GET, HEAD"


def page_name(raw_path: str) -> str | None:
    """The page a request path names ("/" is the index), or None when it tries to leave the site."""
    path = unquote(urlsplit(raw_path).path)
    if not path.startswith("/") or path.startswith("//"):
        return None
    name = path[1:] or "index.html"
    return name if safe_file_name(name) else None


class _Handler(BaseHTTPRequestHandler):
    site: Site  # set on the subclass `serve` makes
    server_version = "abplan-view"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the console shows the URL, not every request

    def _answer(self, body: bool) -> None:
        name = page_name(self.path)
        if name is None:
            self._plain(HTTPStatus.FORBIDDEN, "outside the site\n", body)
            return
        try:
            found = self.site.page(name)
        except Exception as e:  # a broken file in a run must not take the server down
            self._plain(HTTPStatus.INTERNAL_SERVER_ERROR, f"cannot show {name}: {type(e).__name__}\n", body)
            return
        if found is None:
            self._plain(HTTPStatus.NOT_FOUND, "no such page\n", body)
            return
        ctype, data = found
        self._send(HTTPStatus.OK, ctype, data, body)

    def _plain(self, status: HTTPStatus, text: str, body: bool) -> None:
        self._send(status, "text/plain; charset=utf-8", text.encode(), body)

    def _send(self, status: HTTPStatus, ctype: str, data: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", _READ_ONLY)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)

    def _refuse(self) -> None:
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "read-only: GET and HEAD only\n", True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse


def make_server(site: Site, port: int = 0) -> ThreadingHTTPServer:
    """A server for `site` bound to 127.0.0.1 (port 0: a free one); not started."""
    handler = type("ViewHandler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/"


def start_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="abplan-view", daemon=True)
    thread.start()
    return thread
