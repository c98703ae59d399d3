"""The screenshot set a person looks at before a release: six views at a desktop (1400×1000), a projector
(1280×720) and a phone (390×844), saved as ``tests/browser/screenshots/set_<view>_<width>x<height>.png``.

Each view must open without an exception or a page error, with the part it is about on screen: the contour
for the surfaces and the lesson, the 3D chart for the 3D view, the equations for Explain. What the pictures
say is for a person to judge (docs/testing.md says which to look at); the checks here make sure each shows
what its name promises.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks._browser import APP_IDLE, assert_no_exception, screenshot, wait_for_idle
from tests.browser.test_app_browser import LOAD_TIMEOUT_MS
from tests.browser.test_playback_browser import _open

SIZES = ((1400, 1000), (1280, 720), (390, 844))
VIEWS = {
    "defaults": "",
    "rastrigin": "?surface=rastrigin",
    "booth": "?surface=booth",
    # as a teacher shows it: in the focus layout, the text beside the chart (on a phone the text comes first)
    "lesson": "?lesson=bias-correction&show=moments,focus",
}


def _in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] < height and box["y"] + box["height"] > 0


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_screenshot_set(browser: Any, app_url: str, size: tuple[int, int]) -> None:
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        for name, query in VIEWS.items():
            chart = _open(page, app_url + "/" + query)
            if not (name == "lesson" and width < 760):
                assert _in_viewport(page, chart), name  # the contour is on the first screen
            screenshot(page, f"set_{name}_{width}x{height}", full_page=False)
            assert not page.__errors, (name, page.__errors)

        _open(page, app_url + "/?show=moments,3d")
        # the 3D chart is drawn right under the main chart
        page.wait_for_function("() => { const el = document.querySelectorAll('.js-plotly-plot')[1];"
                               " return el && el.data && el.data[0].type === 'surface'; }", timeout=LOAD_TIMEOUT_MS)
        surface3d = page.locator(".js-plotly-plot").nth(1)
        surface3d.evaluate("el => el.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(500)  # WebGL draws after the scroll
        assert _in_viewport(page, surface3d)
        screenshot(page, f"set_3d_{width}x{height}", full_page=False)
        assert not page.__errors, page.__errors

        _open(page, app_url + "/?step=10")
        page.locator("[data-testid=stExpander] summary").filter(has_text="Explain").click()
        wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
        page.wait_for_selector(APP_IDLE, timeout=LOAD_TIMEOUT_MS)
        equations = page.locator("[data-testid=stExpander] .katex").first
        equations.wait_for(timeout=LOAD_TIMEOUT_MS)
        page.locator("[data-testid=stExpander]").filter(has_text="Explain").first.evaluate(
            "el => el.scrollIntoView({block: 'start'})")
        assert _in_viewport(page, equations)
        screenshot(page, f"set_explain_{width}x{height}", full_page=False)
        assert_no_exception(page)
        assert not page.__errors, page.__errors
    finally:
        page.close()
