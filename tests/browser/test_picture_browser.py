"""The picture a class reads, in a real browser: heads that sit on one another show every colour, and a run's
legend entry brings that run forward."""

from __future__ import annotations

from typing import Any

import pytest

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


# Each run's three arrows as drawn (points and head sizes), and the figure's one scale, cap and box.
_ARROWS = """
gd => ({
  arrows: gd.__optiviz.player.pb.arrows,
  runs: gd.__optiviz.player.pb.runs.map(run => run.arrows.map(i => {
    const t = gd.data[i];
    return {name: t.name, x: Array.from(t.x), y: Array.from(t.y), sizes: Array.from(t.marker.size)};
  })),
})
"""


def test_the_arrows_are_each_steps_vectors_at_the_stated_scale(page: Any, app_url: str) -> None:
    """At step 40 of the defaults, each run's arrows start at its position and are its step, −η·m and −η·∇f
    times the figure's one scale, to 1%; one longer than the cap or running off the plot is drawn cut there,
    with its second head shown, and only then."""
    import numpy as np

    import optiviz
    from optiviz import figures

    step = 40
    chart = _open(page, app_url + f"/?show=moments,arrows&step={step}")
    _wait_for_step(page, step)
    drawn = chart.evaluate(_ARROWS)
    scale, cap = drawn["arrows"]["scale"], drawn["arrows"]["cap"]
    x0, x1, y0, y1 = drawn["arrows"]["box"]
    assert scale == 100 and cap == 1.0  # Rosenbrock's 4-wide plot: steps of ~0.005 drawn ×100
    sim = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=1000)
    cuts = 0
    for run, arrows in zip(sim.runs, drawn["runs"], strict=True):
        start = run.path[step]
        for arrow, vectors in zip(arrows, figures._arrow_vectors(run).values(), strict=True):
            if vectors is None:
                assert arrow["x"] == [None, None, None], arrow["name"]
                continue
            vector = scale * vectors[step]
            assert np.allclose([arrow["x"][0], arrow["y"][0]], start, atol=1e-6)
            end = np.array([arrow["x"][2], arrow["y"][2]]) - start
            full = np.hypot(*vector)
            ux, uy = vector / full
            to_edge = min((x1 - start[0]) / ux if ux > 0 else (x0 - start[0]) / ux,
                          (y1 - start[1]) / uy if uy > 0 else (y0 - start[1]) / uy)
            length = min(full, cap, 0.98 * to_edge)
            # 10 bits of angle (0.35°) and of log10 length over 7 decades (0.8%)
            assert np.hypot(*end) == pytest.approx(length, rel=0.01), arrow["name"]
            turn = np.arctan2(end[1], end[0]) - np.arctan2(uy, ux)
            assert abs((turn + np.pi) % (2 * np.pi) - np.pi) <= 2 * np.pi / 2**10, arrow["name"]
            cut = full > length * 1.01
            assert (arrow["sizes"][1] > 0) == cut and arrow["sizes"][2] > 0, arrow
            cuts += cut
    assert cuts and cuts < 8  # Adam's −η·∇f is cut; SGD's step (its −η·∇f) is not
    screenshot(page, "picture_arrows_step_40")
    assert not page.__errors
