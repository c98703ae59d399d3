"""How long the 3D view takes to open, in headless Chromium: from the click on the "3D view" toggle to the 3D
chart drawn (its first draw done, then one animation frame), with the phases on the way.

For each view it opens the page, waits until it is idle, then switches the 3D view on (the first opening, with
the figure built on the server) and off and on again (the figure comes from the cache: what is left is the
page's work), ``--repeats`` times; it prints the median of each phase. The machines are shared and noisy:
compare runs made one after the other, never a time against a fixed bound. Usage::

    python benchmarks/surface3d_browser.py                       # Rosenbrock and Himmelblau
    python benchmarks/surface3d_browser.py --views "?surface=booth" --repeats 5
    python benchmarks/surface3d_browser.py --app /tmp/before/app.py   # a checkout of an earlier commit
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _browser

# Marks, in the page's clock, of what happens after the click: the script's end, and the 3D chart's draw.
_PROBE = """
() => {
  window.__s3d = {};
  const app = document.querySelector('[data-testid=stApp]');
  const mark = (k) => { if (!(k in window.__s3d)) window.__s3d[k] = performance.now(); };
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'notRunning') mark('script');
    const el = [...document.querySelectorAll('.js-plotly-plot')].find((g) => g._fullLayout && g._fullLayout.scene);
    if (el) mark('mounted');
    // the frame after the one that painted the scene (WebGL draws on an animation frame)
    if (el && el.dataset.optivizRevision) requestAnimationFrame(() => requestAnimationFrame(() => mark('drawn')));
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['data-test-script-state', 'data-optiviz-revision']});
  document.addEventListener('click', () => mark('click'), true);
}
"""


def _open_once(page, toggle) -> dict[str, float]:
    page.evaluate(_PROBE)
    toggle.click()
    page.wait_for_function("() => window.__s3d && 'drawn' in window.__s3d && 'script' in window.__s3d",
                           timeout=120_000, polling=20)
    marks = page.evaluate("() => window.__s3d")
    t0 = marks["click"]
    return {k: marks[k] - t0 for k in ("script", "drawn")}


def _close(page, toggle) -> None:
    toggle.click()
    page.wait_for_function("() => ![...document.querySelectorAll('.js-plotly-plot')].some(g => g._fullLayout"
                           " && g._fullLayout.scene)", timeout=60_000)
    _browser.wait_for_idle(page, timeout_ms=60_000)
    time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time from the 3D view's toggle to the 3D chart drawn.")
    parser.add_argument("--app", default="app.py", help="the page (default: app.py; another checkout's to compare)")
    parser.add_argument("--views", nargs="*", default=["", "?surface=himmelblau"], help="query strings")
    parser.add_argument("--repeats", type=int, default=3, help="cached openings per view (default: 3)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args(argv)

    reason = _browser.browser_skip_reason()
    if reason is not None:
        print(reason.replace("browser tests skipped", "surface3d_browser cannot run"), file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with _browser.serve(args.app) as url, sync_playwright() as playwright:
        browser = _browser.launch_chromium(playwright)
        for view in args.views:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(url + "/" + view, wait_until="domcontentloaded")
            page.wait_for_selector(_browser.PLOTLY_CHART, state="attached", timeout=120_000)
            _browser.wait_for_idle(page, timeout_ms=120_000)
            time.sleep(1.0)
            toggle = page.locator("[data-testid=stCheckbox]").filter(has_text="3D view").locator("label")
            first = _open_once(page, toggle)
            again = []
            for _ in range(args.repeats):
                _close(page, toggle)
                again.append(_open_once(page, toggle))
            _browser.assert_no_exception(page)
            name = view or "(default: Rosenbrock)"
            print(f"{name}: first opening: script done {first['script']:.0f} ms, 3D drawn {first['drawn']:.0f} ms")
            print(f"{name}: cached, median of {args.repeats}: script done "
                  f"{statistics.median(a['script'] for a in again):.0f} ms, 3D drawn "
                  f"{statistics.median(a['drawn'] for a in again):.0f} ms", flush=True)
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
