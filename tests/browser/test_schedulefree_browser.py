"""Schedule-Free in a real browser: the contour draws x (average) and z beside each Schedule-Free run's path, and
the playback moves their heads with the run's."""

from __future__ import annotations

from typing import Any

import numpy as np

import optiviz
from benchmarks._browser import screenshot
from tests.browser.test_playback_browser import _open, _wait_for_step

QUERY = "?surface=rosenbrock&run=adamw_schedulefree:lr=0.05&run=sgd_schedulefree:lr=0.003&run=adam:lr=0.05&steps=200"

#: Each companion head's trace: its name, x and y as the page has them.
_HEADS = """el => el.data.filter(t => / now$/.test(t.name) && /: (x \\(average\\)|z) now$/.test(t.name))
                          .map(t => [t.name, t.x[0], t.y[0]])"""
_LINES = """el => el.data.filter(t => /: (x \\(average\\)|z)$/.test(t.name)).map(t => [t.name, t.x.length])"""


def test_x_and_z_are_drawn_beside_the_path_and_their_heads_follow_the_playback(page: Any, app_url: str) -> None:
    chart = _open(page, app_url + QUERY)
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adamw_schedulefree", lr=0.05),
                                          optiviz.RunSpec("sgd_schedulefree", lr=0.003)], steps=200)
    lines = chart.evaluate(_LINES)
    assert sorted(name.split(": ")[1] for name, _ in lines) == ["x (average)", "x (average)", "z", "z"]
    assert all(n == 201 for _, n in lines)  # every step, filled in from the playback
    chart.click(position={"x": 5, "y": 5})
    for step in (0, 60):
        if step:
            for _ in range(step // 10):
                page.keyboard.press("Shift+ArrowRight")
        _wait_for_step(page, step)
        heads = chart.evaluate(_HEADS)
        assert len(heads) == 4
        for name, x, y in heads:
            run = sim.runs[0 if name.startswith("Schedule-Free AdamW") else 1]
            points = run.state["x" if ": x (average)" in name else "z"]
            scale = np.ptp(points, axis=0) / 2**23 + 1e-12
            assert np.all(np.abs(np.array([x, y]) - points[step]) <= scale), (name, step, x, y, points[step])
        screenshot(page, f"schedulefree_step{step}")
