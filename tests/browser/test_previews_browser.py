"""Previews while a slider is dragged, in a real browser: the edited run's path and loss curve follow the
pointer before it is released, are the path a release at that value draws, and give way to the redraw."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

import optiviz
import surfaces
from benchmarks._browser import assert_no_exception, grab_slider, screenshot, sidebar_slider, wait_for_idle
from tests.browser.test_app_browser import REDRAW_TIMEOUT_MS
from tests.browser.test_playback_browser import _open

# The preview each chart shows (null when none), from the chart component's own state.
_SHOWN = ("() => Array.from(document.querySelectorAll('.js-plotly-plot')).slice(0, 2)"
          ".map(gd => gd.__optiviz.preview.shown)")
# Run 0's full path as the main chart draws it, from Plotly's data.
_RUN0_PATH = """
gd => {
  const run = gd.__optiviz.player.pb.runs[0];
  const trace = gd.data[run.line];
  return [Array.from(trace.x), Array.from(trace.y)];
}
"""


def _wait_for_preview(page: Any, label: str) -> None:
    page.wait_for_function(
        "label => Array.from(document.querySelectorAll('.js-plotly-plot')).slice(0, 2)"
        ".every(gd => (gd.dataset.optivizPreview || '').startsWith(label + '='))",
        arg=label, timeout=10_000, polling="raf")


def test_dragging_lr_previews_the_path_a_release_at_that_value_draws(page: Any, app_url: str) -> None:
    chart = _open(page, app_url)
    revision = chart.evaluate("el => Number(el.dataset.optivizRevision)")
    x, y, track = grab_slider(page, "lr (η)")
    width = track["width"]
    seen = []
    for k in range(1, 7):  # to the left: smaller learning rates, one notch or more per move
        page.mouse.move(x - width * 0.04 * k, y)
        _wait_for_preview(page, "lr (η)")
        main, loss = page.evaluate(_SHOWN)
        assert main["label"] == loss["label"] == "lr (η)" and main["value"] == loss["value"]
        seen.append(main["value"])
    # still held: nothing was sent to Python, the chart was not redrawn
    assert chart.evaluate("el => Number(el.dataset.optivizRevision)") == revision
    assert len(set(seen)) > 2 and seen == sorted(seen, reverse=True), seen  # it followed the pointer
    screenshot(page, "preview_dragging_lr")
    main, _loss = page.evaluate(_SHOWN)
    value = main["value"]
    shown = sidebar_slider(page, "lr (η)").locator("[data-testid=stSliderThumbValue]").inner_text()
    assert float(shown) == value  # the value under the pointer is the one previewed

    page.mouse.up()
    page.wait_for_function(
        "([rev]) => { const gd = document.querySelector('.js-plotly-plot');"
        " return Number(gd.dataset.optivizRevision) > rev && !gd.dataset.optivizPreview; }",
        arg=[revision], timeout=REDRAW_TIMEOUT_MS)
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    assert_no_exception(page)
    assert page.evaluate(_SHOWN) == [None, None]  # the redraw replaced the previews
    assert parse_qs(urlparse(page.url).query)["run"][0] == f"adam:lr={value:g}"

    # The preview is the released run's path (the chart's own data), at the steps it kept, to the preview's
    # 16-bit resolution over three domain widths; and both are the engine's run at that learning rate.
    drawn_x, drawn_y = (np.asarray(v, dtype=float) for v in chart.evaluate(_RUN0_PATH))
    steps = np.asarray(main["steps"], dtype=int)
    (x0, x1), (y0, y1) = surfaces.get("rosenbrock").domain
    np.testing.assert_allclose(main["x"], drawn_x[steps], rtol=0, atol=3 * (x1 - x0) / 65534)
    np.testing.assert_allclose(main["y"], drawn_y[steps], rtol=0, atol=3 * (y1 - y0) / 65534)
    runs = optiviz.default_runs("rosenbrock")
    engine = optiviz.simulate("rosenbrock", [runs[0].replace(lr=value), *runs[1:]], steps=1000).runs[0].path
    np.testing.assert_allclose(main["x"], engine[steps, 0], rtol=0, atol=3 * (x1 - x0) / 65534)
    assert not page.__errors


def test_back_at_its_value_the_slider_shows_no_preview_and_nothing_reruns(page: Any, app_url: str) -> None:
    """A drag that ends where it began: the preview goes as the pointer comes back, and no rerun is made."""
    chart = _open(page, app_url)
    revision = chart.evaluate("el => Number(el.dataset.optivizRevision)")
    for label in ("beta1 (β₁)", "beta2 (β₂)", "eps (ε)"):
        x, y, track = grab_slider(page, label)
        width = track["width"]
        page.mouse.move(x - width * 0.15, y)
        _wait_for_preview(page, label)
        page.mouse.move(x, y)
        page.wait_for_function("() => !document.querySelector('.js-plotly-plot').dataset.optivizPreview",
                               timeout=10_000, polling="raf")
        page.mouse.up()
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    assert chart.evaluate("el => Number(el.dataset.optivizRevision)") == revision
    assert page.evaluate(_SHOWN) == [None, None]
    assert_no_exception(page)
    assert not page.__errors
