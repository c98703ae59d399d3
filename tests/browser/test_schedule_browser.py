"""Learning-rate schedules in a real browser: the schedule chart (η_t, and the cycled β₁) under the contour, its
step cursor following the playback, and no drag preview drawn into it."""

from __future__ import annotations

from typing import Any

from benchmarks._browser import screenshot
from tests.browser.test_playback_browser import _open, _wait_for_step

QUERY = ("?surface=booth&steps=400&run=adam:lr=0.2,schedule=OneCycleLR(max_lr=0.2,total_steps=400)"
         "&run=adam:lr=0.2,schedule=CosineAnnealingLR(T_max=400)&run=sgd:lr=0.01")

#: The schedule chart: the plot whose figure says it takes no previews.
_SCHEDULE = "() => [...document.querySelectorAll('.js-plotly-plot')].find(el => el.__optiviz && el.__optiviz.noPreview)"
_CURSORS = f"() => {{ const el = ({_SCHEDULE})(); return el.__optiviz.cursors.map(i => el.data[i].x); }}"


def test_the_schedule_chart_follows_the_step(page: Any, app_url: str) -> None:
    chart = _open(page, app_url + QUERY)
    page.wait_for_function(f"() => !!({_SCHEDULE})()", timeout=30_000)
    names = page.evaluate(f"() => ({_SCHEDULE})().data.filter(t => t.showlegend !== false).map(t => t.name)")
    assert len(names) == 3  # every run's η_t, the unscheduled SGD as its flat lr
    assert page.evaluate(f"() => ({_SCHEDULE})().layout.yaxis2 !== undefined")  # β₁ beside: OneCycleLR cycles it
    chart.click(position={"x": 5, "y": 5})
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    _wait_for_step(page, 30)
    page.wait_for_function(f"() => ({_CURSORS})().every(x => x[0] === 30 && x[1] === 30)", timeout=10_000)
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    screenshot(page, "schedule_chart_step30")
    assert not page.__errors, page.__errors
