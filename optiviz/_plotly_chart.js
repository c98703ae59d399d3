// optiviz's Plotly chart for Streamlit (an st.components.v2 component, see chart.py).
//
// st.plotly_chart mounts a new chart whenever its figure changes and then draws it twice; for optiviz's
// animated figure (7 panels, ~50 traces, 200 frames) that is most of the time a slider takes to answer.
// This component keeps one chart for the life of the page and updates it in place:
//
// * same structure (the same traces and layout apart from data, names and axis ranges): only the traces
//   whose data changed are redrawn, through Plotly.animate with redraw: false (the path the animation
//   itself uses), changed axis ranges are relaid, and the frames are replaced;
// * anything else: Plotly.react.
//
// A click on the main panel is sent back to Python as the trigger value `click` ({x, y}). The chart follows
// its container's width, and below the width a figure names (layout.meta.optivizNarrow) it draws the
// figure's narrow-screen layout. Zoom, pan and legend choices survive in-place updates (Plotly.react resets
// them).

const DATA_KEYS = ["x", "y", "x0", "dx", "y0", "dy", "customdata", "text", "hovertext"];
const LABEL_KEYS = ["name", "hovertemplate"]; // restyled (cheap: no recalculation) when they change
const RANGE = /^[xy]axis\d*$/;
// Plotly.animate options for a jump with no transition (as the animation's own step slider does); new each
// time, so that nothing Plotly does to them carries over.
const atOnce = () => ({ mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } });

// Plotly.PlotSchema.findArrayAttributes, the same walk without Array.prototype.concat.
//
// Streamlit's component code loads Apache Arrow, which sets Symbol.isConcatSpreadable on its prototypes. That
// switches off V8's fast path for every Array.prototype.concat on the page, for good (the "protector" is
// per isolate). Plotly runs findArrayAttributes for every trace on every update, and its walk over the
// attribute schema calls concat twice per attribute: with the fast path gone, that was 0.7 ms a trace,
// ~35 ms of each slider press for optiviz's ~55 traces (0.13 ms a trace without Arrow on the page).
// This is plotly.js's function (src/plot_api/plot_schema.js, 4.1) with the two stacks kept by push and
// truncation instead of slice + concat; the same crawl, the same checks, the same order of results.
// Plotly's base trace attributes are private, so they are caught as the first thing its own function
// crawls. If anything is not as expected, Plotly's own function stays. A browser test compares the two on
// every trace of the page's charts.
function isPlainObject(obj) {
  // Plotly's Lib.isPlainObject
  if (window && window.process && window.process.versions) return Object.prototype.toString.call(obj) === "[object Object]";
  return Object.prototype.toString.call(obj) === "[object Object]" && Object.getPrototypeOf(obj).hasOwnProperty("hasOwnProperty");
}

function isArrayOrTypedArray(a) {
  // Plotly's Lib.isArrayOrTypedArray
  return Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView));
}

function installFindArrayAttributes(Plotly) {
  const schema = Plotly && Plotly.PlotSchema;
  const original = schema && schema.findArrayAttributes;
  if (typeof original !== "function" || original.optivizOriginal || typeof schema.crawl !== "function") return;
  let base;
  const crawl = schema.crawl;
  schema.crawl = function (attrs, ...rest) {
    if (base === undefined) base = attrs;
    return crawl.call(this, attrs, ...rest);
  };
  try {
    original({});
  } finally {
    schema.crawl = crawl;
  }
  if (!base || typeof base !== "object") return;

  function findArrayAttributes(trace) {
    const found = [];
    const stack = [];
    const linked = [];
    function visit(container, i, partial) {
      const item = container[stack[i]];
      const path = partial + stack[i];
      if (i === stack.length - 1) {
        if (isArrayOrTypedArray(item)) found.push(path);
      } else if (linked[i]) {
        if (Array.isArray(item)) {
          for (let j = 0; j < item.length; j++) if (isPlainObject(item[j])) visit(item[j], i + 1, `${path}[${j}].`);
        }
      } else if (isPlainObject(item)) {
        visit(item, i + 1, `${path}.`);
      }
    }
    function callback(attr, name, attrs, level) {
      if (stack.length > level) stack.length = linked.length = level; // was stack.slice(0, level)
      stack.push(name); // was .concat([name])
      linked.push(attr && attr._isLinkedToArray);
      const splittable = attr && (attr.valType === "data_array" || attr.arrayOk === true)
        && !(stack[level - 1] === "colorbar" && (name === "ticktext" || name === "tickvals"));
      if (splittable) visit(trace, 0, "");
    }
    schema.crawl(base, callback);
    if (trace._module && trace._module.attributes) schema.crawl(trace._module.attributes, callback);
    return found;
  }
  findArrayAttributes.optivizOriginal = original; // read by the browser tests
  schema.findArrayAttributes = findArrayAttributes;
}

function loadPlotly(url) {
  if (window.Plotly) {
    installFindArrayAttributes(window.Plotly);
    return Promise.resolve(window.Plotly);
  }
  if (!window.__optivizPlotly) {
    window.__optivizPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => {
        installFindArrayAttributes(window.Plotly);
        resolve(window.Plotly);
      };
      script.onerror = () => {
        window.__optivizPlotly = null;
        reject(new Error(`could not load plotly.js from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return window.__optivizPlotly;
}

// What must be equal for an in-place update: each trace without its data, the layout without axis ranges.
function summarize(fig) {
  const shape = fig.data.map((trace) => {
    const rest = {};
    for (const [k, v] of Object.entries(trace)) if (!DATA_KEYS.includes(k) && !LABEL_KEYS.includes(k)) rest[k] = v;
    // which data keys a trace has is structure: x0/dx giving way to x (or back) is not an in-place update,
    // since Plotly.animate cannot remove the key that is no longer there
    rest["@data"] = DATA_KEYS.filter((k) => k in trace);
    return JSON.stringify(rest);
  });
  const layout = {};
  const ranges = {};
  for (const [k, v] of Object.entries(fig.layout || {})) {
    if (RANGE.test(k) && v && typeof v === "object") {
      const { range, ...axis } = v;
      layout[k] = axis;
      ranges[k] = range === undefined ? null : JSON.stringify(range);
    } else {
      layout[k] = v;
    }
  }
  return {
    traces: fig.data.map((trace) => JSON.stringify(trace)),
    labels: fig.data.map((trace) => JSON.stringify(LABEL_KEYS.map((k) => trace[k]))),
    shape: JSON.stringify(shape),
    layout: JSON.stringify(layout),
    ranges,
  };
}

function axisIsFixed(layout, ref, letter) {
  const name = `${letter}axis${ref && ref.length > 1 ? ref.slice(1) : ""}`;
  const axis = (layout || {})[name] || {};
  return Array.isArray(axis.range) && axis.autorange !== true;
}

async function updateInPlace(Plotly, gd, fig, prev, next) {
  const changed = [];
  next.traces.forEach((t, i) => {
    if (t !== prev.traces[i]) changed.push(i);
  });
  // Plotly.animate does not autorange: take the fast path only where every changed trace has fixed axes.
  const fixed = changed.every(
    (i) => axisIsFixed(fig.layout, fig.data[i].xaxis, "x") && axisIsFixed(fig.layout, fig.data[i].yaxis, "y"),
  );
  if (!fixed) return false;
  const viewed = viewedFrame(gd);
  if (changed.length) {
    // Names and hover templates go with the data: Plotly.update below skips Plotly's defaults pass when its
    // layout part holds only axis ranges, so without them here the legend it redraws kept the old names.
    const data = changed.map((i) => {
      const update = {};
      for (const k of [...DATA_KEYS, ...LABEL_KEYS]) if (k in fig.data[i]) update[k] = fig.data[i][k];
      return update;
    });
    await Plotly.animate(gd, { data, traces: changed }, atOnce());
  }
  // Changed axis ranges and labels in one Plotly.update: one redraw pass instead of two (its restyle of the
  // labels is what redraws the legend).
  const ranges = {};
  for (const [k, r] of Object.entries(next.ranges)) if (r !== prev.ranges[k]) ranges[`${k}.range`] = fig.layout[k].range;
  const relabelled = changed.filter((i) => next.labels[i] !== prev.labels[i]);
  const labels = {};
  for (const k of LABEL_KEYS) labels[k] = relabelled.map((i) => fig.data[i][k]);
  if (relabelled.length || Object.keys(ranges).length) {
    await Plotly.update(gd, relabelled.length ? labels : {}, ranges, relabelled.length ? relabelled : undefined);
  }
  if (fig.frames && fig.frames.length) {
    await Plotly.addFrames(gd, fig.frames); // same names: replaces each frame
    // stay at the step the user was looking at, now showing the new runs
    if (viewed !== null) await Plotly.animate(gd, [viewed], atOnce());
  }
  return true;
}

// The animation's step slider (the first of a layout's sliders), and the frame each of its steps shows.
function stepSlider(layout) {
  return ((layout && layout.sliders) || [])[0] || null;
}

function stepFrames(slider) {
  return ((slider && slider.steps) || []).map((step) => (step.args && step.args[0] ? step.args[0][0] : null));
}

// The frame the step slider shows, if not the first.
function viewedFrame(gd) {
  const slider = stepSlider(gd.layout);
  return slider && slider.active > 0 ? stepFrames(slider)[slider.active] ?? null : null;
}

// Objects merged key by key and lists item by item (an item that is an object merges into the item at the
// same place); anything else replaces.
function merged(base, patch) {
  if (Array.isArray(patch) && Array.isArray(base)) {
    return base.map((item, i) => (i < patch.length ? merged(item, patch[i]) : item));
  }
  if (patch && typeof patch === "object" && !Array.isArray(patch) && base && typeof base === "object") {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = merged(base[k], v);
    return out;
  }
  return patch;
}

// A figure may carry a layout for narrow screens (layout.meta.optivizNarrow: {below, patch}, see
// optiviz/_layouts.py): below that width the patch is merged into its layout, so that the moment panels
// stack under the contour instead of squeezing beside it.
function narrowLayout(fig) {
  return (fig.layout && fig.layout.meta && fig.layout.meta.optivizNarrow) || null;
}

function fitted(fig, width) {
  const narrow = narrowLayout(fig);
  if (!narrow || !(width > 0) || width >= narrow.below) return fig;
  return { ...fig, layout: merged(fig.layout, narrow.patch) };
}

async function draw(Plotly, gd, text, config) {
  const raw = JSON.parse(text);
  const fig = fitted(raw, gd.clientWidth);
  const narrow = narrowLayout(raw);
  gd.__optiviz.narrowBelow = narrow ? narrow.below : null; // read when the container's width changes
  gd.__optiviz.narrow = fig !== raw;
  const next = summarize(fig);
  const prev = gd.__optiviz.drawn;
  const same = prev && prev.shape === next.shape && prev.layout === next.layout;
  let how = "in-place";
  if (prev && window.__optivizSkipRedraws) {
    // A diagnostic (bench_browser.py --without-chart-work): report the update without any Plotly work, to
    // measure what the rest of the page costs. The chart keeps showing what it showed.
    how = "skipped";
  } else if (!(same && (await updateInPlace(Plotly, gd, fig, prev, next).catch(() => false)))) {
    // (An in-place update that Plotly interrupted, the user pressing Play or dragging the step slider while it
    // ran, rejects: the chart may be half updated, so it is drawn again in full, as for any other change.)
    // Plotly.react would start the animation over: stay at the step the user was looking at (arrows or
    // moments switched on while paused there) when the new figure has that step too. The slider is drawn
    // there (animating alone would not move it: Plotly's slider ignores a jump to the frame it last saw),
    // then the traces are taken there.
    const viewed = prev ? viewedFrame(gd) : null;
    const slider = stepSlider(fig.layout);
    const at = viewed === null ? -1 : stepFrames(slider).indexOf(viewed);
    const layout = at > 0 ? { ...fig.layout, sliders: [{ ...slider, active: at }, ...fig.layout.sliders.slice(1)] } : fig.layout;
    const figure = { data: fig.data, layout, frames: fig.frames || [], config };
    await (prev ? Plotly.react(gd, figure) : Plotly.newPlot(gd, figure));
    how = prev ? "react" : "new";
    if (at > 0) await Plotly.animate(gd, [viewed], atOnce());
  }
  gd.__optiviz.drawn = next;
  gd.dataset.optivizUpdate = how; // read by the browser tests
  gd.dataset.optivizRevision = String((Number(gd.dataset.optivizRevision) || 0) + 1);
}

// Play and Pause, run here instead of by Plotly's button handler. Plotly's handler drops the promise of the
// animation it starts, and an animation that Pause (or the step slider) interrupts rejects it: an unhandled
// rejection, a page error, at every Pause. The handler steps aside for a click whose default is prevented.
function playButtonClicked(Plotly, gd, event) {
  const button = event.target && event.target.closest && event.target.closest(".updatemenu-button");
  if (!button || !gd.contains(button)) return;
  const buttons = Array.from(button.parentNode.querySelectorAll(".updatemenu-button"));
  const spec = ((((gd.layout || {}).updatemenus || [])[0] || {}).buttons || [])[buttons.indexOf(button)];
  if (!spec || spec.method !== "animate") return;
  event.preventDefault();
  Plotly.animate(gd, ...spec.args).catch(() => {}); // interrupted: what Pause is for
}

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  let gd = parentElement.querySelector("div.optiviz-plotly");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "optiviz-plotly";
    gd.__optiviz = { text: null, queue: Promise.resolve(), drawn: null, clicks: false, narrow: false, narrowBelow: null };
    parentElement.appendChild(gd);
  }
  const state = gd.__optiviz;
  state.setTriggerValue = setTriggerValue;
  if (!data || state.text === data.figure) return;
  state.text = data.figure;
  const config = data.config || {};
  // Updates run one after another; one superseded while waiting is skipped.
  state.queue = state.queue
    .then(() => loadPlotly(data.plotly_url))
    .then(async (Plotly) => {
      if (state.text !== data.figure) return;
      await draw(Plotly, gd, data.figure, config);
      if (!state.resizer && typeof ResizeObserver === "function") {
        // The container can change width without the window resizing (the sidebar opens or closes).
        let width = gd.clientWidth;
        state.resizer = new ResizeObserver(() => {
          if (gd.clientWidth !== width && state.drawn) {
            width = gd.clientWidth;
            if (state.narrowBelow !== null && (width < state.narrowBelow) !== state.narrow) {
              // across the narrow-screen width: draw the layout for the new width
              const text = state.text;
              state.queue = state.queue.then(() => (state.text === text ? draw(Plotly, gd, text, config) : null));
            } else {
              Plotly.Plots.resize(gd);
            }
          }
        });
        state.resizer.observe(gd);
      }
      if (!state.buttons) {
        state.buttons = true;
        gd.addEventListener("click", (event) => playButtonClicked(Plotly, gd, event), true);
      }
      if (data.clickable && !state.clicks) {
        state.clicks = true;
        gd.on("plotly_click", (event) => {
          const point = (event.points || []).find((p) => p.xaxis && p.xaxis._id === "x" && p.yaxis._id === "y");
          if (point) state.setTriggerValue("click", { x: point.x, y: point.y });
        });
      }
    })
    .catch((error) => {
      gd.textContent = `The chart could not be drawn: ${(error && error.message) || error}`;
      state.drawn = null;
    });
  // Called when the chart leaves the page (the 3D view switched off, no runs left): free what it holds.
  return () => {
    if (state.resizer) state.resizer.disconnect();
    if (window.Plotly && state.drawn) window.Plotly.purge(gd);
    gd.remove();
  };
}
