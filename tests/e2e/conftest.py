"""A real Streamlit server and a real Chromium (Debian's, driven by Playwright) for end-to-end tests.

Without /usr/bin/chromium (or the playwright package) the tests are skipped with the reason; with
BPVIZ_REQUIRE_E2E=1 (set by .ci/run) a missing browser is a failure instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BPVIZ_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"Debian's chromium is not installed ({CHROMIUM}); apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("BPVIZ_REQUIRE_E2E") == "1":
        return  # _require_e2e_when_asked turns every e2e test into an error instead
    for item in items:
        if "tests/e2e" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _require_e2e_when_asked():
    reason = _missing()
    if reason and os.environ.get("BPVIZ_REQUIRE_E2E") == "1":
        pytest.fail(f"end-to-end tests are mandatory here (BPVIZ_REQUIRE_E2E=1) but cannot run: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url():
    """`streamlit run app.py` on a free local port, for the whole session."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "streamlit.log", "w")  # noqa: SIM115 (kept open for the server's lifetime)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start within 60 s; see tests/artifacts/streamlit.log")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item (page_factory screenshots the pages of a failed test)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page_factory(browser, server_url, request):
    """New page (own context = own Streamlit session) at a given viewport.

    Records console errors on ``page.console_errors`` as ``(text, url)`` pairs (the url says which resource failed)
    and requests to other hosts than the local server on ``page.external_requests`` (aborted: the app must work
    offline, in a classroom without internet). A failed test leaves screenshots in tests/artifacts/.
    """
    contexts = []

    def route(r, page, local: tuple[str, ...]) -> None:
        url = r.request.url
        if url.startswith((*local, "data:", "blob:")):
            r.continue_()
        else:
            page.external_requests.append(url)
            r.abort()

    def make(width: int = 1280, height: int = 800, server: str | None = None, locale: str = "en-US"):
        """``server``: a test's own server, when not the session's; ``locale``: the browser's language (the app
        opens a link without ``lang`` in it), fixed so that no test depends on the machine's."""
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        page = context.new_page()
        page.console_errors = []
        page.external_requests = []
        local = (server_url,) if server is None else (server_url, server)
        context.route("**/*", lambda r: route(r, page, local))
        page.on("console", lambda m: page.console_errors.append((m.text, m.location.get("url", "")))
                if m.type == "error" else None)
        page.on("pageerror", lambda e: page.console_errors.append((str(e), "")))
        contexts.append(context)
        return page

    yield make
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for n, c in enumerate(contexts):
        if failed:  # what the browser showed when the test failed: tests/artifacts/<test>-<n>.png
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            for m, pg in enumerate(c.pages):
                with contextlib.suppress(Exception):  # a screenshot must never hide the real failure
                    pg.screenshot(path=str(ARTIFACTS / f"{name}-{n}-{m}.png"), full_page=True)
        c.close()
