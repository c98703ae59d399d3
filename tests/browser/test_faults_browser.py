"""Faults a real browser meets: it disconnects in the middle of a heavy rerun, the server restarts under an
open page, plotly.js does not arrive; and what a visitor of the public app must not see (the developer
toolbar). Each test starts its own server, so that what it measures of the server is its own.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._browser import APP_IDLE, assert_no_exception, free_port, serve_app, wait_for_idle
from tests.browser.test_app_browser import LOAD_TIMEOUT_MS
from tests.browser.test_app_browser import _first_lr_slider as _lr_slider
from tests.browser.test_app_browser import _open_app as _open


def _idle_cpu(server: Any, *, window_s: float = 2.0, limit_s: float = 60.0) -> float:
    """Wait until the server spends under 5% of a core over ``window_s``; return the seconds that took."""
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        before = server.cpu_seconds()
        time.sleep(window_s)
        if server.cpu_seconds() - before < 0.05 * window_s:
            return time.monotonic() - began
    raise AssertionError(f"the server was still busy {limit_s:.0f} s later")


def test_a_browser_that_disconnects_mid_run_leaves_no_work_behind(browser: Any) -> None:
    """Eight runs of 10,000 steps, and the browser goes away while the script runs: the server finishes (or
    drops) that run and goes idle, and holds no more threads than with one idle page open."""
    heavy = "?steps=10000" + "".join(f"&run=adam:lr={lr}" for lr in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2))
    with serve_app("app.py") as server:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        _open(page, server.url)
        _idle_cpu(server)
        threads_idle = server.threads()
        page.goto(server.url + heavy, wait_until="commit")
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=running]", state="attached",
                               timeout=LOAD_TIMEOUT_MS)
        context.close()  # mid-run
        settled = _idle_cpu(server)
        assert settled < 30, f"the server took {settled:.0f} s to go idle"
        assert server.threads() <= threads_idle, (server.threads(), threads_idle)
        assert "Traceback" not in server.log(), server.log()[-3000:]


def test_a_server_restarted_under_an_open_page_brings_the_same_view_back(browser: Any) -> None:
    """The address holds the view: after the server restarts (on the same port), the page reconnects and
    shows what it showed, including a slider moved before the restart."""
    port = free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        with serve_app("app.py", port=port) as server:
            _open(page, server.url + "/?surface=beale&steps=300")
            slider = _lr_slider(page)
            slider.focus()
            slider.press("ArrowRight")
            wait_for_idle(page)
            before = {"lr": slider.get_attribute("aria-valuetext"), "url": page.url}
            assert "surface=beale" in before["url"] and "steps=300" in before["url"]
        with serve_app("app.py", port=port):
            # Streamlit's page reconnects by itself, then reruns the script as a new session from the address.
            page.wait_for_selector(APP_IDLE, state="attached", timeout=LOAD_TIMEOUT_MS)
            page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]') !== null",
                                   timeout=LOAD_TIMEOUT_MS)
            wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
            page.wait_for_selector(".js-plotly-plot", state="visible", timeout=LOAD_TIMEOUT_MS)
            assert_no_exception(page)
            assert page.locator("[data-testid=stSidebar] input[aria-label=Surface]").input_value() == "Beale"
            assert _lr_slider(page).get_attribute("aria-valuetext") == before["lr"]
            assert page.url == before["url"]
    finally:
        context.close()


def test_when_plotly_js_does_not_arrive_the_chart_says_so(browser: Any) -> None:
    with serve_app("app.py") as server:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/plotly.min.js", lambda route: route.abort())
        page.goto(server.url, wait_until="domcontentloaded")
        page.get_by_text("The chart could not be drawn: could not load plotly.js").first.wait_for(
            timeout=LOAD_TIMEOUT_MS)
        wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
        assert_no_exception(page)
        assert not errors, errors
        context.close()


def test_visitors_get_the_viewer_toolbar(page: Any, app_url: str) -> None:
    """No Deploy button, and the main menu holds no developer entries (Rerun, Clear cache)."""
    _open(page, app_url)
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0
    menu = page.locator("[data-testid=stMainMenu]")
    if menu.count():
        menu.click()
        entries = page.locator("[data-testid=stMainMenuList]").inner_text()
        assert "Rerun" not in entries and "Clear cache" not in entries, entries
