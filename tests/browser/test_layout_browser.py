"""The page's layout in a real browser: the focus (classroom) layout on a 1280 x 720 screen, and a phone
(390 x 844): formulas not cut off, the legend right under the contour, no text over other text, the summary
within the screen, and a tap on the contour that reads f without moving the start."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

import surfaces
from benchmarks._browser import assert_no_exception, screenshot, wait_for_idle
from tests.browser._probes import CLICK_TARGET
from tests.browser.test_app_browser import LOAD_TIMEOUT_MS
from tests.browser.test_playback_browser import _open as _open_with_player

PHONE = {"width": 390, "height": 844}

# The contour's plot area and the play bar, in viewport pixels, once the chart has drawn.
_GEOMETRY = """
gd => {
  const box = gd.getBoundingClientRect(), fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
  const bar = gd.parentElement.querySelector('.optiviz-player').getBoundingClientRect();
  const legend = gd.querySelector('.legend').getBoundingClientRect();
  return {
    plot: {left: box.left + xa._offset, top: box.top + ya._offset, right: box.left + xa._offset + xa._length,
           bottom: box.top + ya._offset + ya._length},
    bar: {left: bar.left, top: bar.top, right: bar.right, bottom: bar.bottom},
    legend: {left: legend.left, top: legend.top, right: legend.right, bottom: legend.bottom},
    narrow: gd.__optiviz.narrow, width: gd.clientWidth,
  };
}
"""

# Every piece of text Plotly drew in the chart, with its box: tick labels, axis titles, panel titles, the
# legend (as one box), and the toolbar (as one box, drawn or not: on a touch screen it shows).
_TEXT_BOXES = """
gd => {
  const out = [];
  const add = (kind, el) => {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) out.push({kind, text: (el.textContent || '').slice(0, 40),
      left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  };
  gd.querySelectorAll('.xtick text, .ytick text').forEach(el => add('tick', el));
  gd.querySelectorAll('.g-xtitle text, .g-ytitle text, [class^="g-x"] .xtitle, [class^="g-y"] .ytitle')
    .forEach(el => add('axis title', el));
  // the six panel titles; the other annotations are the moment key and the notes in the panels
  gd.querySelectorAll('.annotation-text-g text').forEach(el => add(
    /^(first moment|second moment|effective step size) .* · [xy]$/.test(el.textContent) ? 'panel title' : 'note',
    el));
  gd.querySelectorAll('.legend .bg').forEach(el => add('legend', el));
  gd.querySelectorAll('.modebar').forEach(el => add('toolbar', el));
  return out;
}
"""


def _open(page: Any, url: str) -> Any:
    """The playback tests' opening (page errors collected in ``page.__errors``), then the chart's last draw
    for the final width done."""
    chart = _open_with_player(page, url)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout"
                           " && !document.querySelector('.js-plotly-plot').__optiviz.drawing", timeout=30_000)
    page.wait_for_timeout(400)  # a redraw for the final width (the sidebar, the scrollbar) settles
    assert_no_exception(page)
    return chart


def _overlap(a: dict, b: dict, tolerance: float = 1.0) -> bool:
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > tolerance
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > tolerance)


# ------------------------------------------------------------------------------------------ focus

@pytest.mark.parametrize("query", ["?show=moments,focus", "?lesson=bias-correction&show=moments,focus"],
                         ids=["no-lesson", "lesson"])
def test_focus_fits_the_contour_and_the_play_controls_on_a_1280x720_screen(browser: Any, app_url: str,
                                                                          query: str) -> None:
    """At 1280 x 720 with the sidebar open (Streamlit's default), the whole contour and the play controls right
    above it are on the first screen, and the contour is large; with a lesson, its text is beside the chart."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    page = context.new_page()
    try:
        chart = _open(page, app_url + "/" + query)
        sidebar = page.locator("[data-testid=stSidebar]").bounding_box()
        assert sidebar["x"] >= 0 and sidebar["width"] > 200, sidebar  # open
        at = chart.evaluate(_GEOMETRY)
        plot, bar = at["plot"], at["bar"]
        assert 0 <= bar["top"] < bar["bottom"] <= plot["top"] <= bar["bottom"] + 40, at  # right above it
        assert plot["bottom"] <= 720 and plot["top"] >= 0, at
        side = min(plot["right"] - plot["left"], plot["bottom"] - plot["top"])
        assert side >= 400, at
        assert not at["narrow"], at  # three panels in a row under the contour, also beside a lesson's text
        if "lesson" in query:
            box = page.locator(".st-key-lesson_box").bounding_box()
            assert box["x"] >= plot["right"] and box["y"] < 720, box
        screenshot(page, f"layout_focus_1280x720_{'lesson' if 'lesson' in query else 'plain'}", full_page=False)
        assert not page.__errors
    finally:
        context.close()


# ------------------------------------------------------------------------------------------ phones

@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def test_no_formula_is_wider_than_its_place_on_a_phone(phone: Any, app_url: str) -> None:
    """Every surface's formula, as the phone shows it (inline math, broken into lines): inside its box, and
    the box inside the screen."""
    page = phone
    for name in surfaces.names():
        _open(page, f"{app_url}/?surface={name}")
        shown = page.evaluate("""() => {
          const box = document.querySelector('.st-key-formula');
          const wide = document.querySelector('.st-key-formula_wide');
          const math = document.querySelector('.st-key-formula_narrow .katex');
          const r = box.getBoundingClientRect(), m = math.getBoundingClientRect();
          const right = Math.max(...Array.from(math.querySelectorAll('.base'), b => b.getBoundingClientRect().right));
          return {box: [r.left, r.right], math: [m.left, m.right], right, wideShown: getComputedStyle(wide).display,
                  scroll: [box.scrollWidth, box.clientWidth], lines: math.getClientRects().length};
        }""")
        assert shown["wideShown"] == "none", (name, shown)
        assert shown["box"][1] <= PHONE["width"], (name, shown)
        assert shown["right"] <= shown["box"][1] + 0.5 and shown["math"][0] >= shown["box"][0] - 0.5, (name, shown)
        assert shown["scroll"][0] <= shown["scroll"][1], (name, shown)
        if name == "goldstein_price":
            assert shown["lines"] >= 2, shown  # broken into lines, not cut off
            page.locator(".st-key-formula").screenshot(path=str(screenshot(page, "layout_phone_formula",
                                                                               full_page=False)))
    assert not page.__errors


@pytest.mark.parametrize("query", ["?surface=booth", "?surface=rosenbrock&run=adam:lr=0.05,bias_correction=false"
                                   "&run=adam:lr=0.05,amsgrad=true&run=rmsprop:lr=0.005,centered=true"
                                   "&run=sgd:lr=0.001,momentum=0.9,nesterov=true&run=adagrad:lr=1.0"],
                         ids=["booth", "five-long-labels"])
def test_on_a_phone_the_legend_is_under_the_contour_and_no_text_overlaps(phone: Any, app_url: str,
                                                                         query: str) -> None:
    """The play controls right above the contour, the legend right under it (not under the six panels), and
    no two pieces of the chart's text (tick labels, titles, the legend, the toolbar) on top of each other."""
    page = phone
    chart = _open(page, app_url + "/" + query)
    at = chart.evaluate(_GEOMETRY)
    plot, bar, legend = at["plot"], at["bar"], at["legend"]
    assert at["narrow"] and at["width"] < 400, at
    assert bar["bottom"] <= plot["top"] <= bar["bottom"] + 45, at  # the play controls next to the contour
    assert plot["right"] - plot["left"] >= 250, at  # the contour as wide as the phone lets it be
    assert plot["bottom"] + 25 <= legend["top"] <= plot["bottom"] + 70, at
    boxes = chart.evaluate(_TEXT_BOXES)
    titles = [b for b in boxes if b["kind"] == "panel title"]
    assert len(titles) == 6 and legend["bottom"] < min(t["top"] for t in titles), (legend, titles)
    clashes = [(a["kind"], a["text"], b["kind"], b["text"]) for k, a in enumerate(boxes) for b in boxes[k + 1:]
               if _overlap(a, b) and {a["kind"], b["kind"]} != {"legend"}]
    assert not clashes, clashes
    # the toolbar, always shown on a touch screen, clear of the legend
    assert any(b["kind"] == "toolbar" for b in boxes)
    screenshot(page, f"layout_phone_chart_{'booth' if 'booth' in query else 'long_labels'}")
    assert not page.__errors


def test_on_a_phone_explains_equations_fit_or_scroll(phone: Any, app_url: str) -> None:
    """Explain's equations with the run's numbers, on a phone: set small enough that they (nearly) fit, and a
    longer one scrolls sideways in its own box rather than being cut off."""
    page = phone
    _open(page, app_url + "/?step=10")
    page.locator("[data-testid=stExpander] summary").filter(has_text="Explain").click()
    page.locator("[data-testid=stMain] [data-testid=stExpanderDetails] .katex-display").first.wait_for(
        timeout=LOAD_TIMEOUT_MS)
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    shown = page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-testid=stMain] [data-testid=stExpanderDetails] .katex-display'), d => ({
          scroll: d.scrollWidth, client: d.clientWidth, overflow: getComputedStyle(d).overflowX,
          right: d.getBoundingClientRect().right}))""")
    assert len(shown) >= 6, shown
    for d in shown:
        assert d["right"] <= PHONE["width"], shown  # the box on the screen
        assert d["overflow"] in ("auto", "scroll") and d["scroll"] <= 1.06 * d["client"], shown
    assert not page.__errors


def test_on_a_phone_the_summary_fits_the_screen(phone: Any, app_url: str) -> None:
    page = phone
    _open(page, app_url + "/?surface=booth")
    shown = page.evaluate("""() => {
      const summary = document.querySelector('.st-key-summary');
      const cards = document.querySelector('.st-key-summary_cards');
      const table = document.querySelector('.st-key-summary_table');
      const r = cards.getBoundingClientRect();
      return {cards: getComputedStyle(cards).display, table: getComputedStyle(table).display,
              right: r.right, scroll: [summary.scrollWidth, summary.clientWidth], text: cards.innerText,
              page: document.documentElement.scrollWidth};
    }""")
    assert shown["table"] == "none" and shown["cards"] != "none", shown
    assert shown["right"] <= PHONE["width"] and shown["scroll"][0] <= shown["scroll"][1], shown
    assert "final loss: " in shown["text"] and "Adam (lr 0.2)" in shown["text"], shown
    assert shown["page"] <= PHONE["width"], shown
    page.locator(".st-key-summary").screenshot(path=str(screenshot(page, "layout_phone_summary", full_page=False)))


def _start(page: Any) -> str:
    return parse_qs(urlparse(page.url).query).get("start", [""])[0]


def test_a_tap_reads_f_and_only_start_here_moves_the_start(phone: Any, app_url: str) -> None:
    """On a touch screen a tap on the contour shows x, y and f there and leaves the start where it is; the
    readout's Start here moves it."""
    page = phone
    chart = _open(page, app_url + "/?surface=booth")
    before = _start(page)
    assert before == "-8,-8"
    target = chart.evaluate(CLICK_TARGET)
    assert target is not None and target["clearance"] > 20, target
    page.touchscreen.tap(target["clientX"], target["clientY"])
    readout = page.locator(".optiviz-touch")
    readout.wait_for(state="visible", timeout=10_000)
    text = readout.locator(".optiviz-touch-value").inner_text()
    x, y = target["x"], target["y"]
    f = (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2  # Booth
    assert "f = " in text and float(text.split("f = ")[1]) == pytest.approx(f, rel=0.05, abs=0.5), (text, f)
    page.wait_for_timeout(1200)  # what a click would have set by now
    wait_for_idle(page)
    assert _start(page) == before
    screenshot(page, "layout_phone_tap", full_page=False)
    readout.locator(".optiviz-touch-start").tap()
    page.wait_for_function(f"() => !location.search.includes('start={before}')", timeout=30_000)
    wait_for_idle(page)
    sx, sy = map(float, _start(page).split(","))
    assert (sx, sy) == pytest.approx((x, y), abs=1e-3)
    assert page.locator(".optiviz-touch").count() == 0
    assert_no_exception(page)
    assert not page.__errors
