"""The picture a class reads, in a real browser: heads that sit on one another show every colour, and a run's
legend entry brings that run forward."""

from __future__ import annotations

from typing import Any

from benchmarks._browser import assert_no_exception, screenshot
from tests.browser.test_playback_browser import _open, _wait_for_step

# Each run's head marker size and position, in run order, from Plotly's data.
_HEADS = """
gd => gd.__optiviz.player.pb.runs.map(run => {
  const t = gd.data[run.head];
  return {size: t.marker.size, x: t.x[0], y: t.y[0]};
})
"""
# Each run's traces' drawn opacity by run ("run0": [...]), from the SVG (in every panel).
_OPACITY = """
gd => {
  const out = {};
  for (const el of gd.querySelectorAll('g.trace')) {
    const t = el.__data__ && el.__data__[0] && el.__data__[0].trace;
    if (t && /^run\\d+$/.test(t.legendgroup || ''))
      (out[t.legendgroup] = out[t.legendgroup] || []).push(Number(getComputedStyle(el).opacity));
  }
  return out;
}
"""


def test_heads_at_one_point_are_rings_showing_every_colour(page: Any, app_url: str) -> None:
    chart = _open(page, app_url)
    heads = chart.evaluate(_HEADS)
    # every run at the start (to each run's quantum of its own range)
    assert all(abs(h["x"] + 1.5) < 1e-6 and abs(h["y"] - 2) < 1e-6 for h in heads), heads
    sizes = [h["size"] for h in heads]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes), sizes  # larger under smaller
    assert min(b - a for a, b in zip(sizes[1:], sizes, strict=False)) >= 6  # a ring of each colour shows
    screenshot(page, "picture_heads_at_the_start")
    page.locator(".optiviz-scrub").first.fill("400")  # the scrubber's input event: go to step 400
    _wait_for_step(page, 400)
    apart = chart.evaluate(_HEADS)
    assert len({h["size"] for h in apart}) == 1  # apart, every head its own size again
    assert not page.__errors


def test_hovering_a_runs_legend_entry_fades_the_other_runs(page: Any, app_url: str) -> None:
    chart = _open(page, app_url)
    before = chart.evaluate(_OPACITY)
    entry = page.locator(".js-plotly-plot").first.locator(".legend .traces").filter(has_text="RMSProp")
    entry.hover()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot').dataset.optivizHighlight === 'run1'",
                           timeout=10_000)
    during = chart.evaluate(_OPACITY)
    assert during["run1"] == before["run1"]
    for run in ("run0", "run2", "run3"):
        assert all(d < 0.2 * b + 1e-9 for d, b in zip(during[run], before[run], strict=True)), run
    screenshot(page, "picture_legend_highlight")
    page.mouse.move(5, 5)  # away from the chart
    page.wait_for_function("() => !document.querySelector('.js-plotly-plot').dataset.optivizHighlight",
                           timeout=10_000)
    assert chart.evaluate(_OPACITY) == before
    assert_no_exception(page)
    assert not page.__errors
