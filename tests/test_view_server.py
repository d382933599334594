"""The viewer's server: loopback only, read-only, nothing outside the site, every page escaped."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from markupsafe import escape

from abplan.view.load import load_sources
from abplan.view.pages import CSP, Site
from abplan.view.server import make_server, page_name, start_in_thread
from run_files import save_plan
from viewrun import IMG, SCRIPT, made_runs

SCRIPT_TEXT = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG_TEXT = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return made_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def site(runs: tuple[Path, Path, Path]) -> Site:
    ds, a, b = runs
    plans = a.parent.parent / "plan-out"
    plans.mkdir(exist_ok=True)
    save_plan(a, "t0", plans / "gated.json")
    return Site(*load_sources([a, b, plans], ds / "papers" / "t0" / "paper.md"))


@pytest.fixture(scope="module")
def port(site: Site) -> Iterator[int]:
    server = make_server(site, 0)
    start_in_thread(server)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def request(port: int, method: str, path: str) -> tuple[int, bytes, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)  # the path as given
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    finally:
        conn.close()


def test_binds_loopback_only(site: Site) -> None:
    server = make_server(site, 0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1" and port > 0
    finally:
        server.server_close()


def test_every_page_is_served_and_a_plot_is_a_png(site: Site, port: int) -> None:
    names = site.names()
    assert {"index.html", "task-t0.html", "paper-r0-t0.html", "plan-r1-t0.html", "plan-p0.html"} <= set(names)
    for name in names:
        status, body, resp = request(port, "GET", "/" + name)
        assert status == 200, name
        if name.endswith(".png"):
            assert body[:8] == b"\x89PNG\r\n\x1a\n" and resp.getheader("Content-Type") == "image/png"
        else:
            assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
            assert f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">' in body.decode()
        assert resp.getheader("Content-Security-Policy") == CSP
    assert request(port, "GET", "/")[1] == request(port, "GET", "/index.html")[1]


@pytest.mark.parametrize(
    "path",
    [
        "/../results.json",
        "/%2e%2e/results.json",
        "/%2E%2E%2Fresults.json",
        "/..%2f..%2fetc%2fpasswd",
        "//etc/passwd",
        "/plans/t0.json",
        "/plans/t0.jsonl",
        "/%2fetc%2fpasswd",
        "/.abplan-run.lock",
        "/a%00.html",
        "/..\\results.json",
        "http://127.0.0.1/../results.json",
    ],
)
def test_paths_outside_the_site_are_refused(port: int, path: str) -> None:
    status, body, _ = request(port, "GET", path)
    assert status == 403, (path, status)
    assert b"results" not in body and b"root:" not in body


@pytest.mark.parametrize(
    "path", ["/results.json", "/config.json", "/journal.jsonl", "/etc%2Fpasswd.html", "/task-nope.html"]
)
def test_files_of_the_run_are_not_pages(port: int, path: str) -> None:
    status, body, _ = request(port, "GET", path)
    assert status in (403, 404), (path, status)
    assert b"schema_version" not in body and b"planner" not in body


def test_page_names() -> None:
    assert page_name("/") == "index.html"
    assert page_name("/task-t%200.html?x=1#y") == "task-t 0.html"
    for bad in ("/../x", "/%2e%2e", "/a/b.html", "//x", "/.hidden", "x.html", "/a\\b"):
        assert page_name(bad) is None, bad


def test_head_and_get_only(port: int) -> None:
    status, body, resp = request(port, "HEAD", "/index.html")
    assert status == 200 and body == b"" and int(resp.getheader("Content-Length") or 0) > 1000
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, _, resp = request(port, method, "/index.html")
        assert status == 405, method
        assert resp.getheader("Allow") == "GET, HEAD"


def test_hostile_title_and_names_are_text_on_every_page(site: Site, port: int) -> None:
    kinds = set()
    for name in site.names():
        if not name.endswith(".html"):
            continue
        html = request(port, "GET", "/" + name)[1].decode()
        assert SCRIPT not in html and "<img src=x" not in html and IMG not in html, name
        assert SCRIPT_TEXT in html and IMG_TEXT in html, name
        kinds.add(name.split("-")[0].removesuffix(".html"))
    assert kinds == {"index", "task", "paper", "plan"}
