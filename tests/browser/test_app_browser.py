"""What only a real browser shows: optiviz draws its main Plotly chart (contour image, paths, animation),
redraws the paths when a learning rate moves, plays its animation, and moves the start point where the
contour is clicked; and no exception appears on the page at any stage.

Screenshots of every stage go to ``tests/browser/screenshots/`` (git-ignored; look at them: a chart can be
present and still be wrong). The one exception is ``app.png``, the README screenshot (1400x900 viewport, at
the defaults), which is committed and refreshed by :func:`test_page_loads_with_the_chart_and_no_exception`.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from benchmarks._browser import SCREENSHOT_DIR, assert_no_exception, screenshot, wait_for_idle
from tests.browser._probes import (
    CHART_SUMMARY,
    CLICK_TARGET,
    COMPARE_FIND_ARRAY_ATTRIBUTES,
    COMPARE_WITH_FRESH_DRAW,
    GO_TO_STEP,
    PATHS,
    PLAYER_STATE,
    STARTS,
)

LOAD_TIMEOUT_MS = 120_000  # the first run may compile Numba kernels
REDRAW_TIMEOUT_MS = 60_000
README_SCREENSHOT = SCREENSHOT_DIR / "app.png"
README_SCREENSHOT_MAX_BYTES = 300_000

#: The main chart: the first Plotly chart on the page (trajectories, contour, moment panels).
MAIN_CHART = ".js-plotly-plot >> nth=0"

#: A label "lr (η)" exactly (not "lr_decay"): every run's learning-rate select_slider.
_LR_LABEL = re.compile(r"^\s*lr \(η\)\s*$")

def _open_app(page: Any, app_url: str) -> Any:
    """Open the app, wait for the main chart and the end of the first run; return the main chart."""
    page.goto(app_url, wait_until="domcontentloaded")
    page.wait_for_selector(".js-plotly-plot", state="visible", timeout=LOAD_TIMEOUT_MS)
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert_no_exception(page)
    return page.locator(MAIN_CHART)


def _nudge_lr_and_wait_for_the_chart(page: Any, chart: Any) -> None:
    """Move run 1's lr slider one notch and wait until the main chart has reported its next update."""
    revision = chart.evaluate("el => Number(el.dataset.optivizRevision)")
    slider = _first_lr_slider(page)
    slider.focus()
    slider.press("ArrowLeft" if slider.get_attribute("value") == slider.get_attribute("max") else "ArrowRight")
    page.wait_for_function(
        "([sel, rev]) => Number(document.querySelector(sel).dataset.optivizRevision) > rev",
        arg=[".js-plotly-plot", revision], timeout=REDRAW_TIMEOUT_MS,
    )


def _first_lr_slider(page: Any) -> Any:
    """Run 1's learning-rate slider (the first "lr (η)" in the sidebar), found by its label.

    ``st.select_slider`` renders as ``[data-testid=stSlider]`` like ``st.slider``; its thumb holds a
    visually hidden ``input[type=range]`` (index into the options; ``aria-valuetext`` is the shown value).
    """
    labelled = page.locator("[data-testid=stSidebar] [data-testid=stSlider]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=_LR_LABEL)
    )
    if labelled.count() == 0:
        labels = page.locator("[data-testid=stSlider] [data-testid=stWidgetLabel]").all_inner_texts()
        pytest.fail(f"no slider labelled 'lr (η)' in the sidebar; slider labels on the page: {labels}")
    return labelled.first.locator("input[type=range]")


def _number_input(page: Any, label: str) -> Any:
    found = page.locator(f"[data-testid=stSidebar] [data-testid=stNumberInput] input[aria-label='{label}']")
    if found.count() != 1:
        pytest.fail(f"expected one number input labelled {label!r} in the sidebar, found {found.count()}")
    return found


def _save_readme_screenshot(page: Any) -> None:
    """The viewport (not the full page) at CSS scale, as ``app.png``, re-encoded with a 256-colour palette.

    Playwright's PNG of this page is about 300 kB (the contour image is a smooth gradient); a palette PNG
    (Pillow, which Streamlit depends on) keeps the colours of the runs and is about a quarter of that.
    """
    page.evaluate("() => document.fonts.ready")  # icon and text fonts drawn, not their fallbacks
    page.mouse.move(700, 40)  # an empty spot of the header: no hover label, no sidebar collapse button
    page.wait_for_timeout(200)
    png = page.screenshot(type="png", scale="css", full_page=False)
    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    try:
        from PIL import Image
    except ImportError:  # keep Playwright's PNG
        README_SCREENSHOT.write_bytes(png)
    else:
        with Image.open(io.BytesIO(png)) as image:
            palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            palette.save(README_SCREENSHOT, format="PNG", optimize=True)
    size = README_SCREENSHOT.stat().st_size
    assert size < README_SCREENSHOT_MAX_BYTES, f"{README_SCREENSHOT} is {size / 1000:.0f} kB (limit 300 kB)"


def test_page_loads_with_the_chart_and_no_exception(page: Any, app_url: str) -> None:
    chart = _open_app(page, app_url)
    summary = chart.evaluate(CHART_SUMMARY)

    assert summary["images"] and summary["images"][0] == {"xref": "x", "yref": "y", "png": True}, (
        f"the contour is not a PNG layout image on the main axes: {summary['images']}"
    )
    assert summary["imageDrawn"] >= 1, "the contour image is in the layout but not drawn"
    assert summary["surface"] is not None, "no invisible 'surface' heatmap (hover values, click to start)"
    assert summary["surface"] == {"type": "heatmap", "opacity": 0, "points": 41 * 41}, summary["surface"]
    assert len(summary["paths"]) == 4, f"expected the four default runs' paths: {summary['paths']}"
    assert all(p["points"] > 10 for p in summary["paths"]), f"a path is (nearly) empty: {summary['paths']}"
    # Played back by optiviz's own controls from every step's position: no Plotly frames, buttons or slider.
    assert summary["frames"] == 0 and summary["plotlyControls"] == 0, summary
    assert summary["player"] == "step 0 of 1,000", summary
    assert summary["clickmode"] == "event", summary["clickmode"]

    screenshot(page, "app_loaded")
    _save_readme_screenshot(page)
    assert_no_exception(page)


def test_moving_the_lr_slider_redraws_the_paths(page: Any, app_url: str) -> None:
    chart = _open_app(page, app_url)
    slider = _first_lr_slider(page)
    before_value = slider.get_attribute("aria-valuetext")
    before = chart.evaluate(PATHS)
    assert "run0" in before, f"run 1 has no path on the main chart: {before}"
    assert f"lr {before_value})" in before["run0"]["name"] or f"lr {before_value}," in before["run0"]["name"], (
        f"run 1's path is labelled {before['run0']['name']!r}, its lr slider shows {before_value!r}"
    )
    screenshot(page, "app_lr_before")

    slider.focus()
    at_top = slider.get_attribute("value") == slider.get_attribute("max")
    slider.press("ArrowLeft" if at_top else "ArrowRight")
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    try:
        chart.evaluate(
            f"(el, before) => new Promise((resolve, reject) => {{"
            f"  const paths = {PATHS.strip()};"
            f"  const t0 = performance.now();"
            f"  const poll = () => {{"
            f"    const now = paths(el);"
            f"    if (now.run0 && now.run0.sig !== before.run0.sig) resolve();"
            f"    else if (performance.now() - t0 > {REDRAW_TIMEOUT_MS}) reject(new Error('timeout'));"
            f"    else setTimeout(poll, 100);"
            f"  }};"
            f"  poll();"
            f"}})",
            before,
        )
    except Exception as exc:  # playwright's Error
        screenshot(page, "app_lr_after")
        pytest.fail(f"run 1's path did not change within {REDRAW_TIMEOUT_MS / 1000:.0f} s after moving lr ({exc!r})")
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)

    after_value = slider.get_attribute("aria-valuetext")
    after = page.locator(MAIN_CHART).evaluate(PATHS)
    screenshot(page, "app_lr_after")
    assert after_value != before_value, "the lr slider did not move"
    assert after["run0"]["sig"] != before["run0"]["sig"], "run 1's path did not change"
    assert f"lr {after_value}" in after["run0"]["name"], (
        f"run 1's path is labelled {after['run0']['name']!r} after lr moved to {after_value!r}"
    )
    unchanged = {g: after[g]["sig"] == before[g]["sig"] for g in before if g != "run0"}
    assert unchanged and all(unchanged.values()), f"moving run 1's lr changed other runs' paths: {unchanged}"
    assert_no_exception(page)


def test_a_slider_updates_the_chart_in_place_as_a_fresh_draw_would(page: Any, app_url: str) -> None:
    """The lr slider takes the in-place path (same chart element, only changed traces redrawn) and the
    result equals a fresh draw of the new figure, legend included, for the main and the loss chart; the
    step being viewed stays where it was."""
    chart = _open_app(page, app_url)
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "new"
    step = 20
    chart.evaluate(GO_TO_STEP, step)
    chart.evaluate("el => { el.__sameElement = true; }")
    _nudge_lr_and_wait_for_the_chart(page, chart)
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    screenshot(page, "app_in_place")
    assert chart.evaluate("el => el.__sameElement === true"), "the chart was mounted anew, not updated"
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "in-place"
    assert chart.evaluate(COMPARE_WITH_FRESH_DRAW) == []
    loss_chart = page.locator(".js-plotly-plot >> nth=1")
    assert loss_chart.evaluate("el => el.dataset.optivizUpdate") == "in-place"
    assert loss_chart.evaluate(COMPARE_WITH_FRESH_DRAW) == []
    assert chart.evaluate(PLAYER_STATE)["step"] == step, "the viewed step was reset"
    assert_no_exception(page)


def test_runs_that_stop_sharing_a_line_get_their_widths_in_place(page: Any, app_url: str) -> None:
    """Runs on one line are drawn wider under narrower (figures.path_widths). SGD at lr 0.0015 follows Adam's
    line on Rosenbrock and at 0.002 (the slider's next notch) no longer does: the widths change, and the chart
    still takes the in-place path, each line (and halo) drawn at the width a fresh draw gives it."""
    widths = "el => el.data.map(t => t.line ? t.line.width : null)"
    chart = _open_app(page, app_url + "/?surface=rosenbrock&run=sgd:lr=0.0015&run=adam:lr=0.05")
    before = chart.evaluate(widths)
    chart.evaluate("el => { el.__sameElement = true; }")
    _nudge_lr_and_wait_for_the_chart(page, chart)
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    after = chart.evaluate(widths)
    assert after != before  # the premise: the nudge changed which runs share a line
    assert chart.evaluate("el => el.__sameElement === true"), "the chart was mounted anew, not updated"
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "in-place"
    assert after == chart.evaluate("el => el.__optiviz.figure.data.map(t => t.line ? t.line.width : null)")
    drawn = chart.evaluate("el => el._fullData.map(t => t.line ? t.line.width : null)")
    assert all(a is None or d == a for a, d in zip(after, drawn, strict=True)), (after, drawn)
    assert chart.evaluate(COMPARE_WITH_FRESH_DRAW) == []
    assert_no_exception(page)


def test_the_benchmark_diagnostic_skips_the_redraw_and_says_so(page: Any, app_url: str) -> None:
    """``bench_browser.py --without-chart-work`` sets ``window.__optivizSkipRedraws``: the chart then reports
    an update as "skipped" and keeps what it showed (the first draw still happens)."""
    page.add_init_script("window.__optivizSkipRedraws = true;")
    chart = _open_app(page, app_url)
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "new"
    before = chart.evaluate(PATHS)
    _nudge_lr_and_wait_for_the_chart(page, chart)
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "skipped"
    assert chart.evaluate(PATHS) == before


def test_plotly_finds_array_attributes_as_its_own_code_does(page: Any, app_url: str) -> None:
    """The chart component replaces Plotly's PlotSchema.findArrayAttributes (slow on a page that loaded
    Apache Arrow, see _plotly_chart.js) with a copy that must give exactly what Plotly's own gives: checked
    on every trace of the page's charts with arrows and the 3D view on, and on a scratch chart of other
    trace types."""
    _open_app(page, app_url)
    for toggle in ("Arrows", "3D view"):
        page.get_by_text(toggle, exact=True).click()
        wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 3",
                           timeout=REDRAW_TIMEOUT_MS)
    result = page.evaluate(COMPARE_FIND_ARRAY_ATTRIBUTES)
    assert result["installed"], "Plotly's findArrayAttributes was not replaced"
    assert result["diffs"] == []
    # every chart of the page and the scratch chart were compared, and the scratch traces exercise nested,
    # linked-to-array and colorbar attributes
    assert result["charts"] == 4 and result["compared"] > 60, result
    scatter, _bar, _heatmap, _contour, parcats, _pie = result["scratchAttrs"]
    assert {"marker.color", "marker.line.width", "error_y.array", "hoverlabel.bgcolor"} <= set(scatter)
    assert "marker.colorbar.tickvals" not in scatter
    assert {"dimensions[0].values", "dimensions[1].values"} <= set(parcats)
    assert_no_exception(page)


def test_a_new_surface_redraws_the_whole_chart(page: Any, app_url: str) -> None:
    """A different surface changes the layout (contour image, ranges): Plotly.react, still one element."""
    chart = _open_app(page, app_url)
    chart.evaluate("el => { el.__sameElement = true; }")
    revision = chart.evaluate("el => Number(el.dataset.optivizRevision)")
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="Beale").click()
    page.wait_for_function(
        "([sel, rev]) => Number(document.querySelector(sel).dataset.optivizRevision) > rev",
        arg=[".js-plotly-plot", revision], timeout=REDRAW_TIMEOUT_MS,
    )
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    screenshot(page, "app_new_surface")
    assert chart.evaluate("el => el.__sameElement === true")
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "react"
    assert chart.evaluate(COMPARE_WITH_FRESH_DRAW) == []
    assert_no_exception(page)


def test_an_interrupted_in_place_update_is_drawn_again_in_full(page: Any, app_url: str) -> None:
    """Plotly rejects an animation that another interrupts (the user pressing Play or scrubbing during an
    update): the chart must not be left half updated. The interruption is simulated by making the main
    chart's next Plotly.animate (the in-place update's) reject as Plotly's does (with undefined)."""
    chart = _open_app(page, app_url)
    page.evaluate("""() => {
      const animate = Plotly.animate;
      const main = document.querySelector('.js-plotly-plot');
      Plotly.animate = function (gd, frames, opts) {
        if (gd === main && frames && frames.data && !window.__interrupted) {  // the update's data, once
          window.__interrupted = true;
          animate.call(this, gd, frames, opts);
          return Promise.reject(undefined);
        }
        return animate.apply(this, arguments);
      };
    }""")
    _nudge_lr_and_wait_for_the_chart(page, chart)
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    assert page.evaluate("() => window.__interrupted === true"), "the update did not go through Plotly.animate"
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "react"
    assert chart.evaluate("el => el.textContent.includes('could not be drawn')") is False
    assert chart.evaluate(COMPARE_WITH_FRESH_DRAW) == []
    assert_no_exception(page)


def test_switching_arrows_on_keeps_the_step_being_viewed(page: Any, app_url: str) -> None:
    """Arrows (or moments) switched on while paused at a step: new traces, so Plotly.react; the chart stays
    at the step the user was looking at, as a fresh draw there."""
    chart = _open_app(page, app_url)
    step = 20
    chart.evaluate(GO_TO_STEP, step)
    revision = chart.evaluate("el => Number(el.dataset.optivizRevision)")
    page.get_by_text("Arrows", exact=True).click()
    page.wait_for_function(
        "([sel, rev]) => Number(document.querySelector(sel).dataset.optivizRevision) > rev",
        arg=[".js-plotly-plot", revision], timeout=REDRAW_TIMEOUT_MS,
    )
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "react"
    assert chart.evaluate("el => el.data.some(t => (t.name || '').includes('update'))"), "no arrows drawn"
    assert chart.evaluate(PLAYER_STATE)["step"] == step, "the viewed step was reset"
    assert chart.evaluate(COMPARE_WITH_FRESH_DRAW) == []
    screenshot(page, "app_arrows_at_step")
    assert_no_exception(page)


def _press_and_wait_for_redraw(page: Any, slider: Any) -> None:
    revision = page.evaluate("() => Number(document.querySelector('.js-plotly-plot').dataset.optivizRevision)")
    slider.focus()
    slider.press("ArrowLeft" if slider.get_attribute("value") == slider.get_attribute("max") else "ArrowRight")
    page.wait_for_function(
        "rev => Number(document.querySelector('.js-plotly-plot').dataset.optivizRevision) > rev",
        arg=revision, timeout=REDRAW_TIMEOUT_MS,
    )
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)


def test_zoom_survives_changes_to_the_runs_and_steps(page: Any, app_url: str) -> None:
    """A zoomed contour stays zoomed when a run's lr changes (in place) and when the number of steps
    changes (Plotly.react, which keeps what the user changed while the surface is the same)."""
    chart = _open_app(page, app_url)
    box = chart.evaluate(
        "el => { const r = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;"
        "  return [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length]; }"
    )
    left, top, width, height = box
    page.mouse.move(left + 0.2 * width, top + 0.2 * height)  # drag a zoom box, as a user does
    page.mouse.down()
    page.mouse.move(left + 0.5 * width, top + 0.5 * height, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    zoom = chart.evaluate("el => el.layout.xaxis.range")
    assert zoom[1] - zoom[0] < 3.0, f"the drag did not zoom: {zoom}"
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    _press_and_wait_for_redraw(page, _first_lr_slider(page))
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "in-place"
    assert chart.evaluate("el => el.layout.xaxis.range") == zoom
    steps = page.locator("[data-testid=stSidebar] [data-testid=stSlider]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile(r"^\s*steps\s*$"))
    ).first.locator("input[type=range]")
    _press_and_wait_for_redraw(page, steps)
    assert chart.evaluate("el => el.dataset.optivizUpdate") == "react"
    assert chart.evaluate("el => el.layout.xaxis.range") == zoom
    screenshot(page, "app_zoom_kept")
    assert_no_exception(page)


def test_the_3d_view_comes_and_goes(page: Any, app_url: str) -> None:
    """The 3D view's chart is drawn when switched on, right under the main chart, and freed when switched
    off, twice over; the other charts stay as they are (the same elements, never redrawn)."""
    _open_app(page, app_url)
    count = "() => document.querySelectorAll('.js-plotly-plot').length"
    assert page.evaluate(count) == 2
    page.evaluate("() => document.querySelectorAll('.js-plotly-plot').forEach((el, i) => { el.__kept = i; })")
    for _ in range(2):
        page.get_by_text("3D view", exact=True).click()
        page.wait_for_function(f"() => ({count})() === 3 && document.querySelectorAll('.js-plotly-plot')[1]"
                               ".dataset.optivizUpdate === 'new'", timeout=REDRAW_TIMEOUT_MS)
        wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
        assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[1].data[0].type") == "surface"
        assert page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                             ".map(el => el.__kept ?? null)") == [0, None, 1]
        page.get_by_text("3D view", exact=True).click()
        page.wait_for_function(f"() => ({count})() === 2", timeout=REDRAW_TIMEOUT_MS)
        wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    assert page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                         ".map(el => [el.__kept, el.dataset.optivizUpdate])") == [[0, "new"], [1, "new"]]
    assert_no_exception(page)


def test_the_chart_follows_its_container_width(page: Any, app_url: str) -> None:
    """Collapsing the sidebar widens the main area without resizing the window: the chart follows."""
    chart = _open_app(page, app_url)
    before = chart.evaluate("el => el._fullLayout.width")
    page.hover("[data-testid=stSidebar]")
    page.locator("[aria-label='Collapse sidebar']").click(force=True)
    page.wait_for_function(
        "w => document.querySelector('.js-plotly-plot')._fullLayout.width > w + 100", arg=before,
        timeout=REDRAW_TIMEOUT_MS,
    )
    width, container = chart.evaluate("el => [el._fullLayout.width, el.parentElement.clientWidth]")
    screenshot(page, "app_sidebar_collapsed")
    assert abs(width - container) <= 2, (width, container)
    assert_no_exception(page)


def test_narrow_screens_stack_the_panels_and_follow_resizes(page: Any, app_url: str) -> None:
    """Below the narrow-screen width the moment panels go under the contour and the loss panels one above
    the other; widening the window brings back the side-by-side layout, narrowing it stacks them again;
    an lr change on a narrow screen is drawn in place and stays stacked."""
    layout = ("() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({"
              "how: el.dataset.optivizUpdate, height: el._fullLayout.height, "
              "x: el.layout.xaxis.domain, x2: el.layout.xaxis2.domain, "
              "y: el.layout.yaxis.domain, y2: el.layout.yaxis2.domain}))")
    # on top: the contour's y domain starts above the first moment panel's
    stacked = ("() => { const l = document.querySelector('.js-plotly-plot').layout; "
               "return l.yaxis.domain[0] > l.yaxis2.domain[1]; }")
    page.set_viewport_size({"width": 600, "height": 1000})
    _open_app(page, app_url)
    main, loss = page.evaluate(layout)
    # (the stacked layout's height follows the contour, as wide as the chart: see test_layout_browser.py)
    narrow_height = main["height"]
    assert main["y"][0] > main["y2"][1] and narrow_height > 1000 and main["x2"][0] == 0
    assert loss["x"] == loss["x2"] == [0, 1] and loss["y"][0] > loss["y2"][1]
    screenshot(page, "app_narrow")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_function(f"() => !({stacked})()", timeout=REDRAW_TIMEOUT_MS)
    main, loss = page.evaluate(layout)
    assert main["y"][0] < main["y2"][0] and main["x2"][0] > 0.5 and main["height"] == 720 and main["how"] == "react"
    assert loss["x"][1] < loss["x2"][0]
    page.set_viewport_size({"width": 600, "height": 1000})
    page.wait_for_function(stacked, timeout=REDRAW_TIMEOUT_MS)
    chart = page.locator(MAIN_CHART)
    before = chart.evaluate(PATHS)
    _nudge_lr_and_wait_for_the_chart(page, chart)
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    main, _ = page.evaluate(layout)
    assert main["how"] == "in-place" and main["y"][0] > main["y2"][1] and main["height"] == narrow_height
    assert chart.evaluate(PATHS)["run0"]["sig"] != before["run0"]["sig"]
    assert_no_exception(page)


def test_play_advances_and_pause_holds_with_no_page_error(page: Any, app_url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error!r}"))
    chart = _open_app(page, app_url)
    play = page.locator(".optiviz-play").first
    before = chart.evaluate(PLAYER_STATE)
    assert before["step"] == 0 and not before["playing"], before
    screenshot(page, "app_play_before")
    play.click()
    page.wait_for_function("() => Number(document.querySelector('.js-plotly-plot').dataset.optivizStep) >= 30",
                           timeout=15_000, polling=50)
    playing = chart.evaluate(PLAYER_STATE)
    screenshot(page, "app_play_after")
    assert playing["playing"] and playing["step"] >= 30, playing
    play.click()  # pause
    page.wait_for_timeout(300)
    held = chart.evaluate(PLAYER_STATE)
    page.wait_for_timeout(700)
    assert not held["playing"] and chart.evaluate(PLAYER_STATE)["step"] == held["step"], "it went on after Pause"
    # Play, scrub while it plays, play again, pause: nothing may surface as a page error.
    play.click()
    page.wait_for_timeout(200)
    scrub = page.locator(".optiviz-scrub").first
    box = scrub.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    play.click()
    page.wait_for_timeout(300)
    play.click()
    wait_for_idle(page)
    assert not errors, f"page errors while playing: {errors}"
    assert_no_exception(page)


def test_clicking_the_contour_moves_the_start_point(page: Any, app_url: str) -> None:
    chart = _open_app(page, app_url)
    start_x, start_y = _number_input(page, "start x"), _number_input(page, "start y")
    before = (float(start_x.input_value()), float(start_y.input_value()))
    target = chart.evaluate(CLICK_TARGET)
    assert target is not None, "no point of the 'surface' grid away from the start to click"
    assert target["clearance"] > 25, f"every grid point is within 25 px of a path or marker: {target}"

    page.mouse.move(target["clientX"], target["clientY"])  # hover first, as a user does
    page.wait_for_timeout(150)
    page.mouse.click(target["clientX"], target["clientY"])
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    try:
        page.wait_for_function(
            "before => { const v = l => document.querySelector("
            "  `[data-testid=stSidebar] [data-testid=stNumberInput] input[aria-label='${l}']`).value;"
            "  return Number(v('start x')) !== before[0] || Number(v('start y')) !== before[1]; }",
            arg=list(before),
            timeout=REDRAW_TIMEOUT_MS,
            polling=100,
        )
    except Exception:  # playwright's TimeoutError: the assertion below reports the values
        pass
    wait_for_idle(page, timeout_ms=REDRAW_TIMEOUT_MS)
    screenshot(page, "app_click_start")

    after = (float(start_x.input_value()), float(start_y.input_value()))
    want = (target["x"], target["y"])
    assert after == pytest.approx(want, abs=1e-3), (
        f"clicking the contour at {want} (grid point) left the start inputs at {after} (before: {before})"
    )
    starts = page.locator(MAIN_CHART).evaluate(STARTS)
    assert starts["start"] == pytest.approx(want, abs=1e-3), f"the start marker is at {starts['start']}"
    for first in starts["paths"]:
        assert first == pytest.approx(want, abs=1e-3), f"a path begins at {first}, not at the new start {want}"
    assert_no_exception(page)


def test_cold_start_shows_a_progress_message_then_the_app(page: Any, serve: Any, tmp_path: Any) -> None:
    """With an empty Numba cache (a first deploy), the page says the kernels are compiling instead of
    staying blank, then shows the app."""
    import os

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    with serve("app.py", env=env) as url:
        page.goto(url)
        page.get_by_text("Compiling the optimizer kernels").wait_for(timeout=30_000)
        screenshot(page, "app_cold_start")
        page.wait_for_selector(".js-plotly-plot", timeout=240_000)
        wait_for_idle(page)
        assert_no_exception(page)
    assert any((tmp_path / "numba-cache").rglob("*.nbi")), "the compiled kernels were not cached"


def test_exported_html_plays_offline(browser: Any, tmp_path: Any) -> None:
    """The downloaded chart is one file that plays with no network at all."""
    import optiviz
    from optiviz import export

    sim = optiviz.simulate("beale", optiviz.default_runs("beale"), steps=300)
    path = tmp_path / "chart.html"
    path.write_text(export.to_html(sim), encoding="utf-8")
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 800})
    requests: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        step = "() => Number(document.querySelector('.js-plotly-plot').dataset.optivizStep)"
        page.wait_for_function(f"({step})() === 0", timeout=15_000)
        page.locator(".optiviz-play").click()
        page.wait_for_function(f"({step})() > 2", timeout=15_000)
        screenshot(page, "export_html_playing")
    finally:
        context.close()
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests
