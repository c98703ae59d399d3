"""Where a slider move's time goes, in the page's own clock: a diagnostic, not a benchmark.

Opens a page (optiviz by default) in headless Chromium, presses a slider's arrow key a few times and, for
each press, prints the timeline from the key press: the websocket message sent, the script starting and
finishing (``stApp``'s script state), the messages received (count and bytes; large ones one by one), and
each Plotly chart's draws (``plotly_afterplot``) and completed in-place updates (optiviz's chart sets
``data-optiviz-revision``). Use it to see which phase a change shortened; ``bench_browser.py`` gives the
numbers to compare. Usage::

    python benchmarks/timeline_browser.py                      # app.py, slider #2 (run 1's lr)
    python benchmarks/timeline_browser.py --app benchmarks/minimal_app.py --slider-index 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _browser

# Before the page's own scripts: count websocket traffic.
_WEBSOCKET_PROBE = """
(() => {
  const Native = window.WebSocket;
  window.__tl = [];
  const size = d => d.size ?? d.byteLength ?? d.length ?? 0;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', m => window.__tl.push([performance.now(), 'received', size(m.data)]));
    const send = ws.send.bind(ws);
    ws.send = d => { window.__tl.push([performance.now(), 'sent', size(d)]); return send(d); };
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""

# After the first load: the script state, chart events, key presses.
_PAGE_PROBE = """
() => {
  const log = (what, n) => window.__tl.push([performance.now(), what, n]);
  const app = document.querySelector('[data-testid=stApp]');
  new MutationObserver(() => log('script ' + app.getAttribute('data-test-script-state'), 0))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  const hook = () => document.querySelectorAll('.js-plotly-plot').forEach((el, i) => {
    if (!el.__tlHooked && el.on) { el.__tlHooked = true; el.on('plotly_afterplot', () => log('chart drawn', i)); }
  });
  hook();
  new MutationObserver(records => {
    hook();
    for (const r of records) if (r.attributeName === 'data-optiviz-revision') {
      log('chart updated (' + r.target.dataset.optivizUpdate + ')',
          Array.from(document.querySelectorAll('.js-plotly-plot')).indexOf(r.target));
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['data-optiviz-revision']});
  document.addEventListener('keydown', () => log('key press', 0), true);
}
"""


def _print_press(events: list[list], big: int) -> None:
    t0 = next((t for t, what, _ in events if what == "key press"), None)
    if t0 is None:
        print("  (no key press recorded)")
        return
    small, small_bytes = 0, 0
    for t, what, n in events:
        if what == "received" and n < big:
            small, small_bytes = small + 1, small_bytes + n
            continue
        if what == "received":
            print(f"  {t - t0:8.1f} ms  received {n:,} bytes")
        elif what.startswith("chart"):
            print(f"  {t - t0:8.1f} ms  {what}: chart #{n}")
        elif what == "sent":
            print(f"  {t - t0:8.1f} ms  sent {n:,} bytes")
        else:
            print(f"  {t - t0:8.1f} ms  {what}")
    print(f"  (and {small} smaller messages received, {small_bytes:,} bytes in all)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Timeline of slider moves in a Streamlit page (diagnostic).")
    parser.add_argument("--app", default="app.py", help="the page (default: app.py)")
    parser.add_argument("--slider-index", type=int, default=2, help="which slider to move (default: 2)")
    parser.add_argument("--presses", type=int, default=3, help="key presses (default: 3)")
    parser.add_argument("--settle", type=float, default=1.5, help="seconds to wait after each press")
    parser.add_argument("--big", type=int, default=10_000, help="messages from this size on are listed alone")
    args = parser.parse_args(argv)

    reason = _browser.browser_skip_reason()
    if reason is not None:
        print(reason.replace("browser tests skipped", "timeline_browser cannot run"), file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with _browser.serve(args.app) as url, sync_playwright() as playwright:
        browser = _browser.launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(_WEBSOCKET_PROBE)
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector(_browser.PLOTLY_CHART, state="attached", timeout=120_000)
        _browser.wait_for_idle(page, timeout_ms=120_000)
        time.sleep(1.0)
        page.evaluate(_PAGE_PROBE)
        slider = page.locator(_browser.SLIDER_INPUT).nth(args.slider_index)
        for i in range(args.presses):
            page.evaluate("() => { window.__tl = []; }")
            slider.focus()
            slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            time.sleep(args.settle)
            print(f"press {i + 1} ({args.app}, slider #{args.slider_index}):")
            _print_press(page.evaluate("() => window.__tl"), args.big)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
