"""Fixtures for the real-browser tests: system Chromium driven by Playwright, the app served by Streamlit.

Every test here is skipped, with one reason for all of them, when Playwright or Chromium is missing:
run pytest with ``-rs`` to see it. The plumbing lives in ``benchmarks/_browser.py`` so the browser
benchmark uses the very same code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from benchmarks import _browser  # noqa: E402

wait_for_idle = _browser.wait_for_idle
assert_no_exception = _browser.assert_no_exception
screenshot = _browser.screenshot


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser``; skip them all with one reason when they cannot run
    (a skip marker, so ``pytest -rs`` folds them into one line per file)."""
    reason = _browser.browser_skip_reason()
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium binary; skips every browser test with one reason if it or Playwright is missing."""
    reason = _browser.browser_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    path = _browser.find_chromium()
    assert path is not None
    return path


@pytest.fixture(scope="session")
def playwright(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Any, chromium_path: str) -> Iterator[Any]:
    """Headless system Chromium with the flags from shared/TESTING.md."""
    instance = _browser.launch_chromium(playwright, executable_path=chromium_path)
    yield instance
    instance.close()


#: Desktop-sized, and the size of the README screenshot (``tests/browser/screenshots/app.png``).
VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (a new Streamlit session), 1400x900 CSS pixels at scale 1."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture(scope="session")
def serve(chromium_path: str) -> Callable[..., AbstractContextManager[str]]:
    """``with serve("app.py") as url:`` runs ``streamlit run`` from the repo root on a free port.

    Waits for ``/_stcore/health`` (up to 120 s: a cold Numba compile is slow), yields the base URL, and
    terminates the server's process group afterwards, printing its output if anything failed.
    """
    return _browser.serve


@pytest.fixture(scope="session")
def app_url(serve: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    """optiviz (``app.py``) served once for the whole session."""
    if not (_REPO_ROOT / "app.py").is_file():
        pytest.fail("app.py not found at the repo root")
    with serve("app.py") as url:
        yield url
