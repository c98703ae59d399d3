// optiviz's sync element (chart.py's sync): draws nothing; passes the page's requests to its charts through
// window.__optivizBus (see _plotly_chart.js). A step is asked for each time it changes (the Explain picker,
// a link's step=); the last one is kept for a chart that is drawn later.

// pageBus: _bus.js, in front of this file.

export default function (component) {
  const { data, parentElement } = component;
  if (!data) return undefined;
  const bus = pageBus();
  const seen = parentElement.__optivizSync || (parentElement.__optivizSync = { step: null });
  if (data.step !== seen.step) {
    seen.step = data.step;
    if (data.echo) return undefined; // the chart's own report coming back: it is there, or has moved on
    bus.requested = data.step;
    bus.dispatchEvent(new CustomEvent("goto", { detail: { t: data.step } }));
  }
  return undefined;
}
