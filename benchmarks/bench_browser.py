"""Slider-to-redraw latency in a real browser: optiviz against a one-slider, one-chart Streamlit page.

Starts both pages with ``streamlit run`` (each on its own free port), opens each in headless Chromium,
then, alternating between the two pages, focuses a slider, presses ArrowRight (or ArrowLeft, so values stay
in range) and measures, in the page's own clock, the time from the key press until

* every Plotly chart the press redrew shows the new data: for each chart, its first ``plotly_afterplot``
  after the press, or, for a chart that reports completed updates (optiviz's in-place chart sets
  ``data-optiviz-revision`` once every step of an update is drawn), that report; the *last* chart counts, and
* Streamlit has finished the rerun (``stApp`` back to ``notRunning``, no spinner).

Which charts a press redrew is known once the page has been quiet for 600 ms (that wait is not counted).

It prints the median and p90 per page, how many elements each page has, and the ratio of the medians. It
never asserts a time: these machines are shared and noisy. Any other page can stand in for optiviz
(``--app``); it is then a control, with no verdict: ``benchmarks/crowded_app.py`` is optiviz's elements
without optiviz's work, around the minimal page's chart; ``benchmarks/charts_app.py`` is the converse, optiviz's
two charts and run 1's learning-rate slider with no other element. Usage::

    python benchmarks/bench_browser.py                     # app.py vs benchmarks/minimal_app.py
    python benchmarks/bench_browser.py --repeats 25 --slider-index 1
    python benchmarks/bench_browser.py --app benchmarks/minimal_app.py   # harness check, ratio ~1
    python benchmarks/bench_browser.py --app benchmarks/crowded_app.py --slider-index 2   # a control page
    python benchmarks/bench_browser.py --app benchmarks/charts_app.py --slider-index 0    # the other control
    python benchmarks/bench_browser.py --slider-index 2 --without-chart-work   # diagnostic: the page minus Plotly
    python benchmarks/bench_browser.py --drag --repeats 5   # previews: pointer move -> preview drawn

With ``--drag`` it drags optiviz's η, β₁, β₂ and ε sliders instead (the previews: the path for the value under
the pointer, drawn before the slider is released) and prints, last, ``drag preview: A ms median; minimal page
slider->redraw: B ms; ratio A/B`` (goal: ratio <= 0.5).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import platform
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _browser

GOAL_RATIO = 1.5
#: --drag: a preview at least twice as fast as the fastest possible Streamlit rerun.
DRAG_GOAL_RATIO = 0.5

# Installed once per page. Every Plotly chart (`.js-plotly-plot`, also ones created later: a MutationObserver
# hooks them before their first draw ends) reports `plotly_afterplot`; a chart that says when an update is
# complete (optiviz's chart component bumps `data-optiviz-revision` after Plotly has finished every step of
# an in-place update) reports that instead. Returns of the script to `notRunning` and key presses are
# timestamped too.
_INSTALL_PROBE = """
() => {
  if (window.__ovBench) return;
  const s = window.__ovBench = {press: null, events: [], idle: [], last: 0, next: 1};
  const idOf = el => el.__ovId || (el.__ovId = s.next++);
  const note = (el, kind) => { const t = performance.now(); s.events.push([t, idOf(el), kind]); s.last = t; };
  const hookCharts = () => document.querySelectorAll('.js-plotly-plot').forEach(el => {
    if (!el.__ovHooked && typeof el.on === 'function') {
      el.__ovHooked = true;
      el.on('plotly_afterplot', () => note(el, 'afterplot'));
    }
  });
  hookCharts();
  new MutationObserver(records => {
    hookCharts();
    for (const r of records) {
      if (r.type === 'attributes' && r.attributeName === 'data-optiviz-revision') note(r.target, 'revision');
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['class', 'data-optiviz-revision']});
  const app = document.querySelector('[data-testid=stApp]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'notRunning') {
      s.idle.push(performance.now()); s.last = performance.now();
    }
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  document.addEventListener('keydown', () => { s.press = performance.now(); s.last = s.press; }, true);
}
"""

# Before each press: forget old timestamps.
_ARM = """
() => { const s = window.__ovBench; s.press = null; s.events = []; s.idle = []; }
"""

# Done when the script is idle again, some chart was redrawn after the press, and nothing (no chart event,
# no rerun) happened for `quietMs`: only then is it known which charts this press redrew.
_DONE = """
(quietMs) => {
  const s = window.__ovBench;
  if (s.press === null || !s.events.some(e => e[0] >= s.press)) return false;
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stSpinner]')) return false;
  return performance.now() - s.last >= quietMs;
}
"""

# Latency = key press -> the later of the last return to idle and the moment the *last* redrawn chart first
# showed the new data: per chart, its first completed update (`revision`) if it reports them, else its first
# `plotly_afterplot`. (st.plotly_chart draws a new chart twice; the second, identical draw is not counted.)
_RESULT = """
() => {
  const s = window.__ovBench;
  const after = s.events.filter(e => e[0] >= s.press);
  const perChart = new Map();
  for (const [t, id, kind] of after) {
    const seen = perChart.get(id) || {};
    if (seen[kind] === undefined) seen[kind] = t;
    perChart.set(id, seen);
  }
  let drawn = s.press;
  for (const seen of perChart.values()) drawn = Math.max(drawn, seen.revision ?? seen.afterplot);
  const idle = s.idle.filter(t => t >= s.press);
  return Math.max(drawn, idle.length ? idle[idle.length - 1] : drawn) - s.press;
}
"""

QUIET_MS = 600.0

# Every element is resent and re-rendered on each rerun: how many a page has is part of what it costs.
_COUNT_ELEMENTS = """
() => [document.querySelectorAll('[data-testid=stElementContainer]').length,
       document.querySelectorAll('[data-testid=stVerticalBlock], [data-testid=stHorizontalBlock]').length]
"""


@dataclass
class Target:
    """One page under test: where it is served, its page, its slider, and the times measured."""

    name: str
    script: Path
    slider_index: int
    page: Any = None
    slider: Any = None
    slider_label: str = ""
    direction: int = 1
    elements: int = 0  # Streamlit elements on the page (`stElementContainer`), once loaded
    blocks: int = 0  # and layout blocks (vertical and horizontal: containers, columns, expanders' bodies...)
    times_ms: list[float] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), ``q`` in [0, 100]."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _open(target: Target, browser: Any, base_url: str, timeout_ms: float, *, skip_redraws: bool = False) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if skip_redraws:  # optiviz's chart component then reports each update without drawing it
        context.add_init_script("window.__optivizSkipRedraws = true;")
    page = context.new_page()
    page.goto(base_url, wait_until="domcontentloaded")
    page.wait_for_selector(_browser.PLOTLY_CHART, state="attached", timeout=timeout_ms)
    _browser.wait_for_idle(page, timeout_ms=timeout_ms)
    _browser.assert_no_exception(page)
    sliders = page.locator(_browser.SLIDER_INPUT)
    count = sliders.count()
    if target.slider_index >= count:
        raise SystemExit(f"{target.name}: --slider-index {target.slider_index} but the page has {count} slider(s)")
    slider = sliders.nth(target.slider_index)
    label = page.locator("[data-testid=stSlider]").nth(target.slider_index).locator("[data-testid=stWidgetLabel]")
    target.slider_label = label.inner_text().strip() if label.count() else "?"
    value, high = slider.get_attribute("aria-valuenow") or slider.input_value(), slider.get_attribute("max")
    with contextlib.suppress(TypeError, ValueError):
        if high is not None and float(value) >= float(high):
            target.direction = -1  # at the top already: go down first
    target.elements, target.blocks = page.evaluate(_COUNT_ELEMENTS)
    page.evaluate(_INSTALL_PROBE)
    target.page, target.slider = page, slider


def _measure_once(target: Target, timeout_ms: float) -> float:
    page = target.page
    page.evaluate(_ARM)
    target.slider.focus()
    target.slider.press("ArrowRight" if target.direction > 0 else "ArrowLeft")
    target.direction = -target.direction
    try:
        page.wait_for_function(_DONE, arg=QUIET_MS, timeout=timeout_ms, polling="raf")
    except Exception as exc:  # playwright's TimeoutError; keep the import lazy
        raise SystemExit(
            f"{target.name}: no chart was redrawn within {timeout_ms / 1000:.0f} s after moving slider "
            f"#{target.slider_index} ({target.slider_label!r}); does that slider change a chart? "
            f"try another --slider-index. ({type(exc).__name__})"
        ) from exc
    _browser.assert_no_exception(page)
    return float(page.evaluate(_RESULT))


# --drag: pointer moves on a slider's thumb, and the previews drawn, in the page's clock.
_DRAG_PROBE = """
() => {
  const s = window.__ovDrag = {moves: [], drawn: []};
  document.addEventListener('pointermove', () => s.moves.push(performance.now()), true);
  const bus = window.__optivizBus;
  bus.addEventListener('preview', e => {
    // the chart draws it synchronously, in the same handler chain: read the time once it has
    queueMicrotask(() => s.drawn.push([bus.previewDrawnAt, e.detail.label, e.detail.value]));
  });
}
"""
# For each preview drawn: the time from the last pointer move before it.
_DRAG_RESULT = """
() => {
  const s = window.__ovDrag;
  return s.drawn.map(([t, label, value]) => {
    const before = s.moves.filter(m => m <= t);
    return before.length ? [label, value, t - before[before.length - 1]] : null;
  }).filter(Boolean);
}
"""
DRAG_LABELS = ("lr (η)", "beta1 (β₁)", "beta2 (β₂)", "eps (ε)")


def _drag(page: Any, label: str, moves: int, timeout_ms: float) -> None:
    """Drag the sidebar slider labelled ``label`` across a third of its track, in ``moves`` pointer moves, then
    back where it was, and release (the value is then unchanged: no rerun)."""
    x, y, track = _browser.grab_slider(page, label)
    direction = -1 if x > track["x"] + track["width"] / 2 else 1
    span = direction * track["width"] / 3
    for k in range(1, moves + 1):
        page.mouse.move(x + span * k / moves, y)
        page.wait_for_timeout(30)
    for k in range(moves - 1, -1, -1):
        page.mouse.move(x + span * k / moves, y)
        page.wait_for_timeout(30)
    page.mouse.up()
    _browser.wait_for_idle(page, timeout_ms=timeout_ms)


def drag_main(args: argparse.Namespace) -> int:
    """Drag each of optiviz's η, β₁, β₂ and ε sliders: pointer move -> preview drawn, against the minimal
    page's slider -> redraw measured in the same run."""
    from playwright.sync_api import sync_playwright

    timeout_ms = args.timeout * 1000.0
    peer = Target("minimal", Path(args.peer), 0)
    app = Target("optiviz", Path("app.py"), 0)
    times: list[float] = []
    per_slider: dict[str, list[float]] = {}
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(_browser.serve(t.script, timeout=args.timeout)) for t in (app, peer)]
        playwright = stack.enter_context(sync_playwright())
        browser = _browser.launch_chromium(playwright)
        stack.callback(browser.close)
        _open(app, browser, urls[0], timeout_ms)
        _open(peer, browser, urls[1], timeout_ms)
        page = app.page
        page.evaluate(_DRAG_PROBE)
        for _ in range(args.warmup):
            _measure_once(peer, timeout_ms)
        for _ in range(args.repeats):
            for label in DRAG_LABELS:
                _drag(page, label, args.moves, timeout_ms)
            peer.times_ms.append(_measure_once(peer, timeout_ms))
        _browser.assert_no_exception(page)
        for label, _value, ms in page.evaluate(_DRAG_RESULT):
            times.append(ms)
            per_slider.setdefault(label, []).append(ms)
        version = browser.version
    if not times:
        print("drag preview: no preview was drawn", file=sys.stderr)
        return 1
    print("optiviz drag benchmark: pointer move on a slider -> the preview drawn (ms, lower is better)")
    print(f"chromium {version}, python {platform.python_version()}, {args.repeats} drags of each of "
          f"{', '.join(DRAG_LABELS)} ({args.moves} moves each way); the minimal page's slider {args.repeats} times")
    for label, values in per_slider.items():
        print(f"  {label:<12} median {statistics.median(values):6.1f}  p90 {_percentile(values, 90):6.1f}  "
              f"max {max(values):6.1f}  (n={len(values)})")
    a, b = statistics.median(times), statistics.median(peer.times_ms)
    verdict = "meets" if a / b <= DRAG_GOAL_RATIO else "misses"
    print(f"goal: ratio <= {DRAG_GOAL_RATIO} ({verdict} it)")
    print(f"drag preview: {a:.1f} ms median; minimal page slider->redraw: {b:.1f} ms; ratio {a / b:.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Slider-to-redraw latency of optiviz vs a minimal one-slider one-chart Streamlit page, "
        "in headless Chromium. Prints medians and the ratio; never asserts a time."
    )
    parser.add_argument("--app", default="app.py", help="the page measured (default: app.py)")
    parser.add_argument("--peer", default="benchmarks/minimal_app.py", help="the peer page (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=15, help="measured key presses per page (default: 15)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured key presses per page first (default: 2)")
    parser.add_argument("--slider-index", type=int, default=0, help="which slider of --app to move (default: 0)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for startup and each redraw")
    parser.add_argument("--screenshots", action="store_true", help="save tests/browser/screenshots/bench_*.png")
    parser.add_argument("--drag", action="store_true",
                        help="instead: drag optiviz's lr, beta1, beta2 and eps sliders and time each pointer move to "
                        "the preview drawn, against the minimal page's slider -> redraw (goal: ratio <= 0.5)")
    parser.add_argument("--moves", type=int, default=12, help="--drag: pointer moves each way per drag (12)")
    parser.add_argument("--without-chart-work", action="store_true",
                        help="diagnostic, not the benchmark: optiviz's charts report each update without "
                        "redrawing (no Plotly work), which measures what the rest of the page costs")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")

    reason = _browser.browser_skip_reason()
    if reason is not None:
        print(reason.replace("browser tests skipped", "bench_browser cannot run"), file=sys.stderr)
        return 2
    if args.drag:
        return drag_main(args)
    from playwright.sync_api import sync_playwright

    root = _browser.REPO_ROOT
    is_app = Path(args.app) == Path("app.py")
    app = Target("optiviz" if is_app else Path(args.app).stem, Path(args.app), args.slider_index)
    peer = Target("minimal", Path(args.peer), 0)
    for target in (app, peer):
        if not (root / target.script).is_file():
            parser.error(f"{target.script} not found (paths are relative to {root})")
    timeout_ms = args.timeout * 1000.0

    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(_browser.serve(t.script, timeout=args.timeout)) for t in (app, peer)]
        playwright = stack.enter_context(sync_playwright())
        browser = _browser.launch_chromium(playwright)
        stack.callback(browser.close)
        for target, url in zip((app, peer), urls, strict=True):
            _open(target, browser, url, timeout_ms, skip_redraws=args.without_chart_work and target is app)
        for _ in range(args.warmup):
            for target in (app, peer):
                _measure_once(target, timeout_ms)
        for i in range(args.repeats):  # interleaved, order alternating, so both see the same machine noise
            for target in (app, peer) if i % 2 == 0 else (peer, app):
                target.times_ms.append(_measure_once(target, timeout_ms))
        if args.screenshots:
            for target in (app, peer):
                _browser.screenshot(target.page, f"bench_{target.name}")
        version = browser.version

    print("optiviz browser benchmark: slider key press -> chart redrawn and page idle (ms, lower is better)")
    print(f"goal: ratio <= {GOAL_RATIO} (optiviz median / minimal median)")
    if not is_app:
        print(f"measuring {args.app} in optiviz's place: a control page, not the benchmark")
    print(
        f"chromium {version}, python {platform.python_version()}, {args.repeats} repeats "
        f"(+{args.warmup} warm-up) per page, interleaved"
    )
    print(f"{'page':<12} {'script':<28} {'elements':>8} {'blocks':>6}  {'slider':<20} {'median':>8} {'p90':>8} "
          f"{'min':>8} {'max':>8}")
    for target in (app, peer):
        t = target.times_ms
        slider = f"#{target.slider_index} {target.slider_label}"[:20]
        print(
            f"{target.name[:12]:<12} {target.script!s:<28} {target.elements:>8} {target.blocks:>6}  {slider:<20} "
            f"{statistics.median(t):8.1f} {_percentile(t, 90):8.1f} {min(t):8.1f} {max(t):8.1f}"
        )
    ratio = statistics.median(app.times_ms) / statistics.median(peer.times_ms)
    if not is_app:
        print(f"ratio {app.name}/minimal (median): {ratio:.2f} -- CONTROL PAGE ({args.app}), not optiviz: no verdict")
        return 0
    if args.without_chart_work:
        print(f"ratio optiviz/minimal (median): {ratio:.2f} -- DIAGNOSTIC (--without-chart-work): optiviz's charts "
              "did no Plotly work, so this is the rest of the page's cost, not a benchmark result")
        return 0
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    print(f"ratio optiviz/minimal (median): {ratio:.2f} ({verdict} the goal of <= {GOAL_RATIO})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
