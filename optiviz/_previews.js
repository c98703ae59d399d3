// optiviz's preview element (chart.py's previews): draws nothing. It holds the edited run's previews (its run
// at every value of each of its grid sliders, optiviz/previews.py) and watches Streamlit's own sliders in the
// sidebar: while one of them is dragged (or held by an arrow key), its hidden range input's value follows the
// pointer, before anything is sent to Python. For the value under the pointer it asks the charts, through
// window.__optivizBus, to draw that run's previewed path and loss curve ("preview"); at the slider's current
// value, to stop ("preview-end"). Once the slider is released, Python reruns and the charts redraw.

// pageBus: _bus.js, in front of this file.

// inflate and decodeColumns: _codec.js, in front of this file.

// The previews, decoded: {run, color, byLabel: {label: {current, values, paths: [{steps, x, y}|null],
// losses: [{steps, y}|null], loss}}}.
async function decodePreviews(data) {
  const byLabel = {};
  for (const family of Object.values(data.params)) {
    const [paths, losses] = await Promise.all([decodeColumns(family.paths), decodeColumns(family.losses)]);
    byLabel[family.label] = {
      current: family.current,
      options: family.options,
      values: family.values,
      loss: family.loss,
      paths: family.values.map((_, k) => (paths[3 * k].length
        ? { steps: paths[3 * k], x: paths[3 * k + 1], y: paths[3 * k + 2] } : null)),
      losses: family.values.map((_, k) => (losses[2 * k].length
        ? { steps: losses[2 * k], y: losses[2 * k + 1] } : null)),
    };
  }
  return { run: data.run, color: data.color, byLabel };
}

// The slider an element belongs to: its label and the index of the option it shows.
function sliderOf(input) {
  const slider = input.closest("[data-testid=stSlider]");
  const label = slider && slider.querySelector("[data-testid=stWidgetLabel]");
  return label ? { label: label.textContent.trim(), index: Number(input.getAttribute("value")) } : null;
}

function watchSliders(bus) {
  const handle = (input) => {
    const previews = bus.previews;
    const slider = sliderOf(input);
    if (!previews || !slider) return;
    const family = previews.byLabel[slider.label];
    if (!family || !(slider.index >= 0 && slider.index < family.options.length)) return;
    const value = family.options[slider.index]; // the slider's options: the grid, and an off-grid current value
    const k = family.values.indexOf(value);
    if (value === family.current || k < 0) {
      if (bus.previewing) {
        bus.previewing = null;
        bus.dispatchEvent(new CustomEvent("preview-end"));
      }
      return;
    }
    const detail = {
      run: previews.run, color: previews.color, label: slider.label, value,
      path: family.paths[k], loss: family.losses[k], lossScale: family.loss,
      at: performance.now(),
    };
    bus.previewing = detail;
    bus.dispatchEvent(new CustomEvent("preview", { detail }));
  };
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      if (r.target.tagName === "INPUT" && r.target.type === "range") handle(r.target);
    }
  });
  observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["value"] });
  return observer;
}

export default function (component) {
  const { data } = component;
  const bus = pageBus();
  if (!bus.sliderWatch) bus.sliderWatch = watchSliders(bus);
  const text = data ? JSON.stringify(data) : null;
  if (text === bus.previewsText) return undefined;
  bus.previewsText = text;
  if (!data) {
    bus.previews = null;
    return undefined;
  }
  decodePreviews(data).then((previews) => {
    if (bus.previewsText === text) bus.previews = previews;
  });
  return undefined;
}
