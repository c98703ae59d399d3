// optiviz's Plotly chart for Streamlit (an st.components.v2 component, see chart.py), and the same chart
// standalone (the exported HTML page, mountStandalone).
//
// st.plotly_chart mounts a new chart whenever its figure changes and then draws it twice; for optiviz's
// figure (7 panels, ~50 traces) that is most of the time a slider takes to answer. This component keeps one
// chart for the life of the page and updates it in place:
//
// * same structure (the same traces and layout apart from data, names and axis ranges): only the traces
//   whose data changed are redrawn, through Plotly.animate with redraw: false, and changed axis ranges are
//   relaid;
// * anything else: Plotly.react.
//
// Large arrays arrive packed (optiviz/_codec.py: quantised, delta-coded, byte-shuffled, deflated) and are
// unpacked here before Plotly sees them. The trajectory figure's layout.meta.optivizPlayback holds every
// step's position (and the arrows' vectors): a Player draws any step from them (heads, trails, arrows, the
// moment panels' cursors) with its own controls: play and pause, a step back and forward (ten with Shift),
// a scrubber that reaches every step, the speed, and the keys space, ← and →. A paused step is reported to
// Python (the state value `step`). Charts on the page talk through window.__optivizBus: the trajectory
// chart announces its step (the loss chart's cursor follows), the page's sync element (_sync.js) asks for a
// step (Explain's picker, a link's step=), and its previews element (_previews.js) for a preview of a run while
// one of its sliders is dragged.
//
// A click on the main panel is sent back to Python as the trigger value `click` ({x, y}). The chart follows
// its container's width, and below the width a figure names (layout.meta.optivizNarrow) it draws the
// figure's narrow-screen layout. Zoom, pan and legend choices survive in-place updates.

const DATA_KEYS = ["x", "y", "x0", "dx", "y0", "dy", "customdata", "text", "hovertext"];
const LABEL_KEYS = ["name", "hovertemplate"]; // restyled (cheap: no recalculation) when they change
const RANGE = /^[xy]axis\d*$/;
// Plotly.animate options for a jump with no transition; new each time, so that nothing Plotly does to them
// carries over.
const atOnce = () => ({ mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } });

// ------------------------------------------------------------------------------------------ Plotly itself

// Plotly.PlotSchema.findArrayAttributes, the same walk without Array.prototype.concat.
//
// Streamlit's component code loads Apache Arrow, which sets Symbol.isConcatSpreadable on its prototypes. That
// switches off V8's fast path for every Array.prototype.concat on the page, for good (the "protector" is
// per isolate). Plotly runs findArrayAttributes for every trace on every update, and its walk over the
// attribute schema calls concat twice per attribute: with the fast path gone, that is 0.7 ms a trace,
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
      if (stack.length > level) stack.length = linked.length = level;
      stack.push(name);
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

// ------------------------------------------------------------------------------------------ the bus

// pageBus: _bus.js, in front of this file.

// ------------------------------------------------------------------------------------------ packed arrays

// inflate and decodeColumns: _codec.js, in front of this file.

// optiviz/_codec.py's unpack: one array, mapped back from its scale.
async function unpackArray(a) {
  const [values] = await decodeColumns({ b64: a.b64, columns: [[a.n, a.lo, a.hi, a.bits]] });
  if (a.scale === "log") for (let i = 0; i < values.length; i++) values[i] = 10 ** values[i];
  if (a.scale === "asinh") for (let i = 0; i < values.length; i++) values[i] = a.tau * Math.sinh(values[i]);
  return values;
}

const isPacked = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && "optivizArray" in v;

// The figure as Plotly gets it: packed arrays unpacked (each blob decoded once, then reused while it stays
// in the figure), each run's path filled in from the playback's positions, and optiviz's own meta left out.
// Returns {fig, playback, cursors, cache, noPreview}.
async function prepare(raw, cache) {
  const next = new Map();
  const decoded = async (key, make) => {
    const hit = cache.get(key) || next.get(key);
    const value = hit || (await make());
    next.set(key, value);
    return value;
  };
  const data = await Promise.all(raw.data.map(async (trace) => {
    let out = trace;
    for (const k of ["x", "y"]) {
      if (isPacked(trace[k])) {
        if (out === trace) out = { ...trace };
        out[k] = await decoded(trace[k].optivizArray.b64, () => unpackArray(trace[k].optivizArray));
      }
    }
    return out;
  }));
  const meta = (raw.layout && raw.layout.meta) || {};
  let playback = null;
  if (meta.optivizPlayback) {
    const pb = meta.optivizPlayback;
    const positions = await decoded(pb.positions.b64, () => decodeColumns(pb.positions));
    const vectors = pb.vectors ? await decoded(pb.vectors.b64, () => decodeColumns(pb.vectors)) : null;
    // points a run's optimizer keeps beside its path (Schedule-Free's x and z): a line and a head each
    const others = pb.companions ? await decoded(pb.companions.b64, () => decodeColumns(pb.companions)) : null;
    playback = {
      ...pb,
      runs: pb.runs.map((run, i) => ({
        ...run, x: positions[2 * i], y: positions[2 * i + 1], vectors: vectors ? vectors.slice(6 * i, 6 * i + 6) : null,
        marker: data[run.head] && data[run.head].marker, // the head's own, its size changed where heads meet
        arrowMarkers: run.arrows ? run.arrows.map((k) => data[k].marker) : null,
        companions: run.companions && others
          ? run.companions.map((c) => ({ ...c, x: others[c.col], y: others[c.col + 1] })) : null,
      })),
    };
    for (const run of playback.runs) {
      for (const k of [run.line, run.halo]) if (k !== undefined) data[k] = { ...data[k], x: run.x, y: run.y };
      for (const c of run.companions || []) data[c.line] = { ...data[c.line], x: c.x, y: c.y };
    }
  }
  const playback3d = meta.optivizPlayback3d ? await preparePlayback3d(meta.optivizPlayback3d, decoded, data) : null;
  const { meta: _, ...layout } = raw.layout || {};
  return {
    fig: { ...raw, data, layout }, playback, playback3d, cursors: meta.optivizCursors || null, cache: next,
    noPreview: !!meta.optivizNoPreview,
  };
}

// ------------------------------------------------------------------------------------------ updates

// What must be equal for an in-place update: each trace without its data, the layout without axis ranges and
// annotations (relaid in place) and without optiviz's meta (the playback's arrays are data). A run's path is filled in from the playback's
// positions, so its trace changes when they do.
function summarize(raw) {
  const meta = (raw.layout && raw.layout.meta) || {};
  const pb = meta.optivizPlayback;
  const lines = new Set(pb ? pb.runs.flatMap((r) => [r.line, r.halo]) : []);
  const companionLines = new Set(pb ? pb.runs.flatMap((r) => (r.companions || []).map((c) => c.line)) : []);
  const shape = raw.data.map((trace) => {
    const rest = {};
    for (const [k, v] of Object.entries(trace)) if (!DATA_KEYS.includes(k) && !LABEL_KEYS.includes(k)) rest[k] = v;
    // a line's width is restyled in place (runs that come to share a line, or stop sharing it, change widths)
    if (rest.line && typeof rest.line === "object") rest.line = { ...rest.line, width: undefined };
    // which data keys a trace has is structure: x0/dx giving way to x (or back) is not an in-place update,
    // since Plotly.animate cannot remove the key that is no longer there
    rest["@data"] = DATA_KEYS.filter((k) => k in trace);
    return JSON.stringify(rest);
  });
  const layout = {};
  const ranges = {};
  for (const [k, v] of Object.entries(raw.layout || {})) {
    if (RANGE.test(k) && v && typeof v === "object") {
      const { range, ...axis } = v;
      layout[k] = axis;
      ranges[k] = range === undefined ? null : JSON.stringify(range);
    } else if (k === "annotations") {
      // the moment panels' notes and keys follow the data (what is said, the corner left free): relaid
      layout[k] = "relaid";
      ranges[k] = JSON.stringify(v);
    } else if (k === "meta") {
      // the playback's arrays and step counts are data; which traces it draws is structure
      const { optivizPlayback, ...rest } = v || {};
      const traces = optivizPlayback
        ? [optivizPlayback.runs.map((r) => [r.line, r.halo, r.head, r.trail, r.arrows, r.companions]),
          optivizPlayback.cursors] : null;
      layout[k] = { ...rest, playback: traces };
    } else {
      layout[k] = v;
    }
  }
  return {
    traces: raw.data.map((trace, i) => JSON.stringify(trace) + (lines.has(i) ? pb.positions.b64 : "")
      + (companionLines.has(i) ? pb.companions.b64 : "")),
    labels: raw.data.map((trace) => JSON.stringify(LABEL_KEYS.map((k) => trace[k]))),
    widths: raw.data.map((trace) => (trace.line && trace.line.width !== undefined ? trace.line.width : null)),
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
  if (changed.length) {
    // Names and hover templates go with the data: Plotly.update below skips Plotly's defaults pass when its
    // layout part holds only axis ranges, so without them here the legend it redraws would keep the old names.
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
  for (const [k, r] of Object.entries(next.ranges)) {
    if (r === prev.ranges[k]) continue;
    if (k === "annotations") ranges.annotations = fig.layout.annotations;
    else ranges[`${k}.range`] = fig.layout[k].range;
  }
  const relabelled = changed.filter((i) => next.labels[i] !== prev.labels[i]);
  const labels = {};
  for (const k of LABEL_KEYS) labels[k] = relabelled.map((i) => fig.data[i][k]);
  if (relabelled.length || Object.keys(ranges).length) {
    await Plotly.update(gd, relabelled.length ? labels : {}, ranges, relabelled.length ? relabelled : undefined);
  }
  const rewidthed = next.widths.flatMap((w, i) => (w !== prev.widths[i] ? [i] : []));
  if (rewidthed.length) {
    await Plotly.restyle(gd, { "line.width": rewidthed.map((i) => next.widths[i]) }, rewidthed);
  }
  return true;
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
function narrowLayout(raw) {
  return (raw.layout && raw.layout.meta && raw.layout.meta.optivizNarrow) || null;
}

function fitted(raw, width, gd) {
  const narrow = narrowLayout(raw);
  const isNarrow = Boolean(narrow && width > 0 && width < narrow.below);
  let layout = isNarrow ? merged(raw.layout, narrow.patch) : raw.layout;
  const square = isNarrow ? narrow.square : raw.layout && raw.layout.meta && raw.layout.meta.optivizSquare;
  if (square && width > 0) {
    // sized for this width exactly: Plotly.react keeps the width it autosized to first (often before the
    // container had its final width), and the constraint of equal scales would shrink the contour to fit it
    const side = squareSide(square, width, gd);
    if (gd && gd.__optiviz) gd.__optiviz.fit = { square, side };
    layout = { ...squared(layout, square, side), width };
  } else if (gd && gd.__optiviz) {
    gd.__optiviz.fit = null;
  }
  return layout === raw.layout ? raw : { ...raw, layout };
}

// ------------------------------------------------------------------------------------------ stacked layouts

// The narrow and the focus layouts stack the contour, its legend and the moment panels (optiviz/_layouts.py),
// laid out for a contour `square.side` px square in a plot area `square.plot` px tall. The contour's side is
// chosen here: as wide as the chart ("width": narrow screens), or as tall as the screen leaves room for under
// the chart's top, keeping `square.keep` px under it in view ("screen": the focus layout, at least
// `square.min`); never wider than the chart.
function squareSide(square, width, gd) {
  const wide = width - square.l - square.r;
  if (square.fit !== "screen" || !gd) return Math.max(120, wide);
  const top = gd.getBoundingClientRect().top + scrollOffset(gd);
  const room = window.innerHeight - top - square.t - square.keep;
  return Math.max(120, Math.min(wide, Math.max(square.min || 0, Math.floor(room))));
}

// How far the page (or the element that scrolls it: Streamlit scrolls an inner container) is scrolled down.
function scrollOffset(el) {
  for (let node = el.parentElement; node; node = node.parentElement) {
    const overflow = getComputedStyle(node).overflowY;
    if ((overflow === "auto" || overflow === "scroll") && node.scrollHeight > node.clientHeight) return node.scrollTop;
  }
  return window.scrollY || 0;
}

// The layout with its contour `side` px square: the figure grows or shrinks by the difference, and everything
// under the contour (the panels' domains, their titles, the legend) moves with it.
function squared(layout, square, side) {
  const d = side - square.side;
  if (Math.abs(d) < 0.5) return layout;
  const plot = square.plot + d;
  const moved = (f) => {
    const px = (1 - f) * square.plot;
    return 1 - (px > square.side / 2 ? px + d : px) / plot;
  };
  const out = { ...layout, height: layout.height + d };
  for (const [k, v] of Object.entries(layout)) {
    if (/^yaxis\d*$/.test(k) && v && Array.isArray(v.domain)) out[k] = { ...v, domain: v.domain.map(moved) };
  }
  if (Array.isArray(layout.annotations)) {
    out.annotations = layout.annotations.map((a) => (a && a.yref === "paper" ? { ...a, y: moved(a.y) } : a));
  }
  if (layout.legend && layout.legend.yref === "paper") out.legend = { ...layout.legend, y: moved(layout.legend.y) };
  return out;
}

async function draw(Plotly, chart, text, config) {
  const gd = chart.gd;
  const parsed = JSON.parse(text);
  const raw = fitted(parsed, gd.clientWidth, gd);
  const narrow = narrowLayout(parsed);
  chart.narrowBelow = narrow ? narrow.below : null; // read when the container's width changes
  chart.narrow = Boolean(narrow && gd.clientWidth > 0 && gd.clientWidth < narrow.below);
  // a contour sized in the browser: drawn again when the width (or, for the screen's, the height) changes
  chart.squared = Boolean(raw.layout && raw.layout.meta
    && ((chart.narrow && narrow.square) || (!chart.narrow && raw.layout.meta.optivizSquare)));
  chart.fitsScreen = Boolean(!chart.narrow && raw.layout && raw.layout.meta && raw.layout.meta.optivizSquare);
  const next = summarize(raw);
  const prev = chart.drawn;
  const prepared = await prepare(raw, chart.cache);
  const { fig } = prepared;
  if (prepared.playback) {
    // The moving traces drawn at the step shown, not the figure's step 0: one draw, no flash of the start.
    const t = Math.max(0, Math.min(chart.player.t, prepared.playback.n));
    const { data, traces } = stepFrame(prepared.playback, t);
    traces.forEach((i, k) => { fig.data[i] = { ...fig.data[i], ...data[k] }; });
  }
  for (const i of prepared.cursors || []) fig.data[i] = { ...fig.data[i], x: [chart.lastStep, chart.lastStep] };
  if (prepared.playback3d) View3d.beforeDraw(chart, prepared.playback3d, fig, !prev);
  const same = prev && prev.shape === next.shape && prev.layout === next.layout;
  let how = "in-place";
  chart.drawing = true;
  try {
    if (prev && window.__optivizSkipRedraws) {
      // A diagnostic (bench_browser.py --without-chart-work): report the update without any Plotly work, to
      // measure what the rest of the page costs. The chart keeps showing what it showed.
      how = "skipped";
    } else if (!(same && (await updateInPlace(Plotly, gd, fig, prev, next).catch(() => false)))) {
      // (An in-place update that Plotly interrupted rejects: the chart may be half updated, so it is drawn
      // again in full, as for any other change.)
      const figure = { data: fig.data, layout: fig.layout, config };
      await (prev ? Plotly.react(gd, figure) : Plotly.newPlot(gd, figure));
      how = prev ? "react" : "new";
    }
  } finally {
    chart.drawing = false;
  }
  chart.cache = prepared.cache;
  chart.figure = fig; // as Plotly got it (read by the browser tests)
  chart.drawn = next;
  if (how !== "skipped" && chart.highlight) chart.highlight.reset();
  chart.cursors = prepared.cursors;
  chart.noPreview = prepared.noPreview; // the schedule chart: no loss preview drawn into it
  if (how !== "skipped") {
    if (prepared.playback) await chart.player.attach(prepared.playback);
    else chart.player.detach();
    if (chart.cursors) await chart.follow(chart.lastStep);
    View3d.afterDraw(chart, prepared.playback3d);
    if (chart.preview) chart.preview.clear();
  }
  gd.dataset.optivizUpdate = how; // read by the browser tests
  gd.dataset.optivizRevision = String((Number(gd.dataset.optivizRevision) || 0) + 1);
}

// ------------------------------------------------------------------------------------------ the player

// Steps per second: numbers, or a whole run in so many seconds.
const SPEEDS = [
  ["1 step/s", 1], ["3 steps/s", 3], ["10 steps/s", 10], ["30 steps/s", 30], ["100 steps/s", 100],
  ["300 steps/s", 300], ["1,000 steps/s", 1000], ["whole run in 8 s", "8s"], ["whole run in 3 s", "3s"],
];
const DEFAULT_SPEED = "8s";
// Icons as SVG, not text: fonts without ⏮ ⏭ draw boxes.
const svg = (body) => `<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" fill="currentColor">${body}</svg>`;
const ICONS = {
  back: svg('<rect x="2" y="3" width="2" height="10"/><path d="M14 3v10L5 8z"/>'),
  forward: svg('<rect x="12" y="3" width="2" height="10"/><path d="M2 3v10l9-5z"/>'),
  play: svg('<path d="M4 2.5v11L13.5 8z"/>'),
  pause: svg('<rect x="3.5" y="3" width="3" height="10"/><rect x="9.5" y="3" width="3" height="10"/>'),
};
const REPORT_AFTER_MS = 300; // a step is reported once the user has stopped on it this long

class Player {
  constructor(Plotly, chart) {
    this.Plotly = Plotly;
    this.chart = chart;
    this.gd = chart.gd;
    this.pb = null;
    this.t = 0;
    this.playing = false;
    this.speed = DEFAULT_SPEED;
    this.shown = null; // the step last drawn
    this.reported = null;
    this.bar = this.buildBar();
    this.bar.hidden = true;
    chart.root.insertBefore(this.bar, this.gd);
  }

  buildBar() {
    const bar = document.createElement("div");
    bar.className = "optiviz-player";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Playback: space plays or pauses, ← and → step (Shift: 10 steps)");
    const button = (cls, icon, label, action) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.innerHTML = ICONS[icon];
      b.title = label;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", (e) => action(e.shiftKey ? 10 : 1));
      bar.appendChild(b);
      return b;
    };
    this.backButton = button("optiviz-back", "back", "Step back (←; Shift: 10 steps)", (k) => this.stepBy(-k));
    this.playButton = button("optiviz-play", "play", "Play (space)", () => this.toggle());
    this.forwardButton = button("optiviz-forward", "forward", "Step forward (→; Shift: 10 steps)", (k) => this.stepBy(k));
    const scrub = document.createElement("input");
    scrub.type = "range";
    scrub.className = "optiviz-scrub";
    scrub.min = "0";
    scrub.step = "1";
    scrub.setAttribute("aria-label", "Step");
    scrub.addEventListener("input", () => this.goto(Number(scrub.value), { report: false, pause: true }));
    scrub.addEventListener("change", () => this.report(true));
    bar.appendChild(scrub);
    this.scrub = scrub;
    const readout = document.createElement("span");
    readout.className = "optiviz-readout";
    readout.setAttribute("aria-live", "polite");
    bar.appendChild(readout);
    this.readout = readout;
    const speed = document.createElement("select");
    speed.className = "optiviz-speed";
    speed.title = "Playback speed";
    speed.setAttribute("aria-label", "Playback speed");
    for (const [label, value] of SPEEDS) {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = label;
      speed.appendChild(option);
    }
    speed.value = DEFAULT_SPEED;
    speed.addEventListener("change", () => this.setSpeed(speed.value));
    bar.appendChild(speed);
    this.speedSelect = speed;
    return bar;
  }

  // Keys, wherever the focus is in the chart (its controls or the plot).
  onKey(event) {
    if (!this.pb || event.target === this.speedSelect) return;
    // a focused button answers space and Enter itself; the scrubber answers ← and → (one step) itself
    if (event.target.tagName === "BUTTON" && (event.key === " " || event.key === "Enter")) return;
    if (event.target === this.scrub && !event.shiftKey && event.key.startsWith("Arrow")) return;
    const big = event.shiftKey ? 10 : 1;
    if (event.key === " " || event.key === "Spacebar") {
      this.toggle();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      this.stepBy(event.key === "ArrowLeft" ? -big : big);
    } else if (event.key === "Home" || event.key === "End") {
      this.goto(event.key === "Home" ? 0 : this.pb.n, { pause: true });
    } else {
      return;
    }
    event.preventDefault();
  }

  stepsPerSecond() {
    const n = this.pb ? this.pb.n : 1;
    if (this.speed === "8s") return Math.max(1, n / 8);
    if (this.speed === "3s") return Math.max(1, n / 3);
    return Number(this.speed);
  }

  setSpeed(value) {
    this.speed = value;
    this.speedSelect.value = value;
    if (this.playing) this.startClock();
  }

  async attach(playback) {
    const first = this.pb === null;
    this.pb = playback;
    this.bar.hidden = false;
    this.scrub.max = String(playback.n);
    if (first) {
      const bus = pageBus();
      this.t = bus.requested !== null ? bus.requested : 0;
    }
    this.t = Math.max(0, Math.min(this.t, playback.n));
    this.shown = null;
    await this.render(this.t);
  }

  detach() {
    this.pause();
    this.pb = null;
    this.bar.hidden = true;
  }

  toggle() {
    if (this.playing) this.pause(true);
    else this.play();
  }

  play() {
    if (!this.pb || this.playing) return;
    if (this.t >= this.pb.n) this.t = 0;
    this.playing = true;
    this.playButton.innerHTML = ICONS.pause;
    this.playButton.title = "Pause (space)";
    this.playButton.setAttribute("aria-label", "Pause (space)");
    this.bar.dataset.playing = "true";
    this.startClock();
    const tick = (now) => {
      if (!this.playing) return;
      const t = Math.min(this.pb.n, this.from + Math.floor(((now - this.clock) / 1000) * this.stepsPerSecond()));
      if (t !== this.shown && !this.busy) this.render(t);
      if (t >= this.pb.n) {
        this.pause();
        this.render(this.pb.n).then(() => this.report(true));
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  startClock() {
    this.from = this.t;
    this.clock = performance.now();
  }

  pause(report = false) {
    if (!this.playing) return;
    this.playing = false;
    this.playButton.innerHTML = ICONS.play;
    this.playButton.title = "Play (space)";
    this.playButton.setAttribute("aria-label", "Play (space)");
    delete this.bar.dataset.playing;
    if (report) this.report(true);
  }

  stepBy(k) {
    if (!this.pb) return;
    this.goto(this.t + k, { pause: true });
  }

  goto(t, { report = true, pause = false } = {}) {
    if (!this.pb) return;
    if (pause) this.pause();
    this.t = Math.max(0, Math.min(Math.round(t), this.pb.n));
    if (this.playing) this.startClock();
    this.render(this.t);
    if (report) this.report(false);
  }

  // Tell Python the step shown, once the user has stopped on it (now, after a pause or a release).
  report(now) {
    clearTimeout(this.reportTimer);
    const onStep = this.chart.hooks && this.chart.hooks.onStep;
    if (!onStep) return; // standalone: nobody to tell
    const send = () => {
      if (this.playing || this.t === this.reported) return;
      this.reported = this.t;
      onStep(this.t);
    };
    if (now) send();
    else this.reportTimer = setTimeout(send, REPORT_AFTER_MS);
  }

  // Draw step t: each run's head and trail (and arrows) at min(t, its steps), the cursors at t.
  async render(t) {
    if (!this.pb) return;
    this.t = t;
    this.readout.textContent = `step ${t.toLocaleString("en-US")} of ${this.pb.n.toLocaleString("en-US")}`;
    this.scrub.value = String(t);
    this.gd.dataset.optivizStep = String(t); // read by the tests
    if (this.chart.drawing) return; // drawn again when the update ends
    if (this.busy) {
      this.pending = t;
      return;
    }
    this.busy = true;
    try {
      const { data, traces } = this.frame(t);
      await this.Plotly.animate(this.gd, { data, traces }, atOnce()).catch(() => {});
      this.shown = t;
      pageBus().dispatchEvent(new CustomEvent("step", { detail: { t } }));
    } finally {
      this.busy = false;
    }
    if (this.pending !== undefined && this.pending !== null) {
      const next = this.pending;
      this.pending = null;
      if (next !== this.shown) await this.render(next);
    }
  }

  frame(t) {
    return stepFrame(this.pb, t);
  }
}

// What step t looks like: each run's head and trail (and arrows) at min(t, its steps), the cursors at t, as
// {data, traces} for Plotly.animate.
function stepFrame(pb, t) {
  const data = [];
  const traces = [];
  const put = (i, update) => {
    data.push(update);
    traces.push(i);
  };
  const sizes = headSizes(pb, t);
  pb.runs.forEach((run, r) => {
    const s = Math.min(t, run.n);
    const head = { x: [run.x[s]], y: [run.y[s]], customdata: [s] };
    if (run.marker) head.marker = { ...run.marker, size: sizes[r] };
    put(run.head, head);
    const from = Math.max(0, s - pb.trail);
    put(run.trail, { x: Array.from(run.x.subarray(from, s + 1)), y: Array.from(run.y.subarray(from, s + 1)) });
    if (run.arrows) drawArrows(pb, run, s, put);
    for (const c of run.companions || []) put(c.head, { x: [c.x[s]], y: [c.y[s]], customdata: [s] });
  });
  for (const i of pb.cursors) put(i, { x: [t, t] });
  return { data, traces };
}

// Where the cut of a too long arrow puts its second head, as a share of the drawn length.
const CUT_HEAD_AT = 0.84;

// How far from (x, y) along (ux, uy) the box [x0, x1, y0, y1] ends (Infinity without a box or from outside it).
function toEdge(box, x, y, ux, uy) {
  if (!box) return Infinity;
  const [x0, x1, y0, y1] = box;
  if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) return Infinity;
  const along = (from, u, lo, hi) => (u > 0 ? (hi - from) / u : u < 0 ? (lo - from) / u : Infinity);
  return Math.min(along(x, ux, x0, x1), along(y, uy, y0, y1));
}

// A run's arrows at its step s: each from the run's position along its vector (angle, log10 length) times the
// figure's one scale (pb.arrows.scale). One longer than pb.arrows.cap, or than the way to the plot's edge
// (pb.arrows.box), is drawn only that long, with a second head behind its head: it is cut. Each arrow is three
// points: the position, the second head's place, the end.
function drawArrows(pb, run, s, put) {
  const { scale, cap, box } = pb.arrows || { scale: 1, cap: Infinity, box: null };
  const x0 = run.x[s];
  const y0 = run.y[s];
  run.arrows.forEach((i, k) => {
    const angle = run.vectors[2 * k];
    const length = run.vectors[2 * k + 1];
    const ok = s < run.n && angle.length > s && Number.isFinite(angle[s]) && Number.isFinite(length[s]);
    const marker = run.arrowMarkers[k];
    if (!ok) {
      put(i, { x: [null, null, null], y: [null, null, null] });
      return;
    }
    const full = 10 ** length[s] * scale;
    const ux = Math.cos(angle[s]);
    const uy = Math.sin(angle[s]);
    const drawn = Math.min(full, cap, 0.98 * toEdge(box, x0, y0, ux, uy));
    const cut = full > drawn;
    const back = cut ? CUT_HEAD_AT * drawn : drawn;
    const head = marker.size[2];
    put(i, {
      x: [x0, x0 + back * ux, x0 + drawn * ux],
      y: [y0, y0 + back * uy, y0 + drawn * uy],
      marker: { ...marker, size: [0, cut ? head : 0, head] },
    });
  });
}

// Each run's head size at step t: heads that sit on one another (every run at the start; runs that meet) are
// drawn as rings, the first run's largest and each later one, drawn on top, smaller, so every colour shows.
// Heads stay exactly where the runs are.
function headSizes(pb, t) {
  const near = pb.span * 0.12; // about 1% of the domain: closer than a head's radius at the usual sizes
  const heads = pb.runs.map((run) => {
    const s = Math.min(t, run.n);
    return [run.x[s], run.y[s], run.marker ? run.marker.size : 11];
  });
  return heads.map(([x, y, size], r) => {
    let above = 0; // later heads on top of this one
    for (let q = r + 1; q < heads.length; q++) {
      if (Math.abs(heads[q][0] - x) < near && Math.abs(heads[q][1] - y) < near) above++;
    }
    return size + 8 * above;
  });
}

// ------------------------------------------------------------------------------------------ the 3D view

// The 3D view (figures.create_surface3d_figure) carries layout.meta.optivizPlayback3d: every step's x, y and
// height of each run. It has no controls of its own: it follows the step the trajectory chart shows (the bus's
// "step" events), drawing each run's head and trail there, and never announces or reports a step itself, so
// the two cannot drive each other. A WebGL scene redraws in full for any change (with software GL, a few
// hundred milliseconds), so while the trajectory chart plays the 3D view skips steps: after a draw it waits
// as long as that draw took, leaving the page at least half of its time.

async function preparePlayback3d(pb, decoded, data) {
  const positions = await decoded(pb.positions.b64, () => decodeColumns(pb.positions));
  const playback = {
    ...pb,
    runs: pb.runs.map((run, i) => ({
      ...run, x: positions[4 * i], y: positions[4 * i + 1], z: positions[4 * i + 2], at: positions[4 * i + 3],
      marker: data[run.head] && data[run.head].marker,
    })),
  };
  for (const run of playback.runs) {
    data[run.line] = { ...data[run.line], x: run.x, y: run.y, z: run.z };
  }
  return playback;
}

const finite3d = (values) => Array.from(values, (v) => (Number.isFinite(v) ? v : null));

// Step t of the 3D view, as {update, traces} for Plotly.restyle: each run's head and trail at min(t, its steps).
function stepFrame3d(pb, t) {
  // heads that meet as rings, as on the contour (headSizes), but 3 px wider each, not 8: in 3D a wide ring
  // cuts into the surface under it
  const sizes = headSizes({
    span: pb.span,
    runs: pb.runs.map((run) => {
      const k = run.at[Math.min(t, run.n)];
      return { n: 0, x: [run.x[k]], y: [run.y[k]], marker: run.marker };
    }),
  }, 0);
  const update = { x: [], y: [], z: [], customdata: [], "marker.size": [] };
  const traces = [];
  pb.runs.forEach((run, r) => {
    const base = run.marker ? run.marker.size : 7;
    const s = Math.min(t, run.n);
    const from = run.at[Math.max(0, s - pb.trail)]; // the drawn points of steps s - trail .. s
    const k = run.at[s];
    const put = (i, x, y, z, customdata, size) => {
      traces.push(i);
      update.x.push(finite3d(x));
      update.y.push(finite3d(y));
      update.z.push(finite3d(z));
      update.customdata.push(customdata);
      update["marker.size"].push(size);
    };
    put(run.trail, run.x.subarray(from, k + 1), run.y.subarray(from, k + 1), run.z.subarray(from, k + 1), null,
      base);
    put(run.head, [run.x[k]], [run.y[k]], [run.z[k]], [s], base + ((sizes[r] - base) * 3) / 8);
  });
  return { update, traces };
}

// The step the trajectory chart shows (the 3D view drawn later starts there), else the page's last request.
function trajectoryStep() {
  for (const el of document.querySelectorAll("div.optiviz-plotly")) {
    const other = el.__optiviz;
    if (other && other.player && other.player.pb) return other.player.t;
  }
  const requested = pageBus().requested;
  return requested !== null && requested !== undefined ? requested : 0;
}

class View3d {
  constructor(chart) {
    this.chart = chart;
    this.pb = null;
    this.wanted = null; // the step to show
    this.shown = null; // the step drawn
    this.busy = false;
    this.disposed = false;
    // The user's camera, kept on the page while the surface stays (uirevision): the view switched off and on
    // again opens as it was left.
    chart.gd.on("plotly_relayout", (event) => {
      const scene = chart.gd._fullLayout && chart.gd._fullLayout.scene;
      if (event && Object.keys(event).some((k) => k.startsWith("scene.camera")) && scene && scene.camera) {
        pageBus().camera3d = { key: this.key, camera: JSON.parse(JSON.stringify(scene.camera)) };
      }
    });
  }

  // Before a draw: the figure at the step to show, and with the camera the user left.
  static beforeDraw(chart, pb, fig, first) {
    const t = Math.max(0, Math.min(chart.view3d ? chart.view3d.target() : trajectoryStep(), pb.n));
    const { update, traces } = stepFrame3d(pb, t);
    traces.forEach((i, k) => {
      const marker = fig.data[i].marker ? { ...fig.data[i].marker, size: update["marker.size"][k] } : undefined;
      fig.data[i] = { ...fig.data[i], x: update.x[k], y: update.y[k], z: update.z[k],
                      ...(update.customdata[k] ? { customdata: update.customdata[k] } : {}),
                      ...(marker ? { marker } : {}) };
    });
    const saved = pageBus().camera3d;
    if (first && saved && saved.key === fig.layout.uirevision && fig.layout.scene) {
      fig.layout = { ...fig.layout, scene: { ...fig.layout.scene, camera: saved.camera } };
    }
    chart.gd.dataset.optivizStep3d = String(t); // read by the tests
    chart.drawnStep3d = t;
  }

  static afterDraw(chart, pb) {
    if (!pb) {
      chart.view3d = null;
      return;
    }
    if (!chart.view3d) chart.view3d = new View3d(chart);
    const view = chart.view3d;
    view.pb = pb;
    view.key = chart.figure.layout.uirevision;
    view.shown = chart.drawnStep3d;
    view.follow(view.target());
  }

  target() {
    return this.wanted !== null ? this.wanted : trajectoryStep();
  }

  follow(t) {
    this.wanted = t;
    if (!this.busy) this.drawLoop();
  }

  async drawLoop() {
    this.busy = true;
    try {
      const clamped = () => Math.max(0, Math.min(this.wanted, this.pb.n));
      while (!this.disposed && this.pb && !this.chart.drawing && window.Plotly && clamped() !== this.shown) {
        const t = clamped();
        const started = performance.now();
        const { update, traces } = stepFrame3d(this.pb, t);
        await window.Plotly.restyle(this.chart.gd, update, traces).catch(() => {});
        if (this.disposed) return;
        this.shown = t;
        this.chart.gd.dataset.optivizStep3d = String(t); // read by the tests
        if (clamped() !== t) await new Promise((resolve) => setTimeout(resolve, Math.min(500, performance.now() - started)));
      }
    } finally {
      this.busy = false;
    }
  }
}

// ------------------------------------------------------------------------------------------ previews

// A run's previewed path (trajectory chart) or loss curve (loss chart, its first panel), drawn on a canvas over
// the plot while a slider is dragged: a few points, no Plotly call, so it follows the pointer. Cleared when
// the chart redraws or the slider is back at its value.
class PreviewLayer {
  constructor(chart) {
    this.chart = chart;
    this.canvas = null;
  }

  // [[x, y] in pixels over the plot area, or null for a break], and the plot area; null if nothing to draw.
  project(detail) {
    const fl = this.chart.gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return null;
    const xa = fl.xaxis;
    const ya = fl.yaxis;
    let xs;
    let ys;
    if (this.chart.player && this.chart.player.pb) {
      if (!detail.path || detail.run >= this.chart.player.pb.runs.length) return null;
      xs = detail.path.x;
      ys = detail.path.y;
    } else if (this.chart.cursors) {
      if (!detail.loss || this.chart.noPreview) return null;
      xs = detail.loss.steps;
      const logged = detail.lossScale === "log";
      // the loss panel's axis is log where the values are log10(f − f*)
      ys = Array.from(detail.loss.y, (v) => (logged && ya.type !== "log" ? 10 ** v : v));
      if (logged && ya.type === "log") {
        const pts = Array.from(xs, (x, i) => (Number.isFinite(ys[i]) ? [xa._offset + xa.c2p(x), ya._offset + ya.l2p(ys[i])] : null));
        return { points: pts, area: [xa._offset, ya._offset, xa._length, ya._length] };
      }
    } else {
      return null;
    }
    const points = Array.from(xs, (x, i) => (Number.isFinite(x) && Number.isFinite(ys[i])
      ? [xa._offset + xa.c2p(x), ya._offset + ya.c2p(ys[i])] : null));
    return { points, area: [xa._offset, ya._offset, xa._length, ya._length] };
  }

  show(detail) {
    const projected = this.project(detail);
    if (!projected) return this.clear();
    const gd = this.chart.gd;
    if (!this.canvas) {
      this.canvas = document.createElement("canvas");
      this.canvas.className = "optiviz-preview";
      this.chart.root.appendChild(this.canvas);
    }
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = gd.clientWidth;
    const height = gd.clientHeight;
    canvas.style.cssText = `position:absolute;left:${gd.offsetLeft}px;top:${gd.offsetTop}px;width:${width}px;`
      + `height:${height}px;pointer-events:none`;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const [left, top, w, h] = projected.area;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, w, h);
    ctx.clip();
    const trace = () => {
      ctx.beginPath();
      let open = false;
      for (const p of projected.points) {
        if (p === null) {
          open = false;
        } else if (open) {
          ctx.lineTo(p[0], p[1]);
        } else {
          ctx.moveTo(p[0], p[1]);
          open = true;
        }
      }
    };
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    trace();
    ctx.strokeStyle = "rgba(255, 255, 255, 0.85)";
    ctx.lineWidth = 6;
    ctx.stroke();
    trace();
    ctx.strokeStyle = detail.color || "#0f172a";
    ctx.lineWidth = 2.5;
    ctx.stroke();
    ctx.restore();
    // read by the tests and the drag benchmark
    const drawn = detail.path || detail.loss;
    this.shown = { label: detail.label, value: detail.value, steps: Array.from(drawn.steps),
                   x: Array.from(detail.path ? drawn.x : drawn.steps), y: Array.from(drawn.y) };
    gd.dataset.optivizPreview = `${detail.label}=${detail.value}`;
    pageBus().previewDrawnAt = performance.now();
    return undefined;
  }

  clear() {
    if (this.canvas) {
      this.canvas.remove();
      this.canvas = null;
    }
    this.shown = null;
    delete this.chart.gd.dataset.optivizPreview;
  }
}

// ------------------------------------------------------------------------------------------ run highlight

const RUN_GROUP = /^run\d+$/;

// The run a legend entry under the pointer stands for ("run2"), or null.
function legendRun(element) {
  const item = element && element.closest && element.closest(".legend .traces");
  const trace = item && item.__data__ && item.__data__[0] && item.__data__[0].trace;
  return trace && RUN_GROUP.test(trace.legendgroup || "") ? trace.legendgroup : null;
}

// Hovering a run's legend entry brings that run forward: every other run's traces fade, in every panel, until
// the pointer leaves the entry. The fade is the SVG groups' own style, not a Plotly call: Plotly.restyle
// updates the data but restyles the traces only on the next full draw.
class RunHighlight {
  constructor(chart) {
    this.chart = chart;
    this.group = null;
    chart.gd.addEventListener("mouseover", (event) => this.set(legendRun(event.target)));
    chart.gd.addEventListener("mouseleave", () => this.set(null));
  }

  reset() {
    this.group = null;
    delete this.chart.gd.dataset.optivizHighlight;
  }

  set(group) {
    const { gd } = this.chart;
    if (group === this.group || !this.chart.drawn || this.chart.drawing) return;
    this.group = group;
    for (const el of gd.querySelectorAll("g.trace")) {
      const trace = el.__data__ && el.__data__[0] && el.__data__[0].trace;
      if (!trace || !RUN_GROUP.test(trace.legendgroup || "")) continue;
      if (el.__optivizOpacity === undefined) el.__optivizOpacity = el.style.opacity;
      const own = el.__optivizOpacity;
      el.style.opacity = group === null || trace.legendgroup === group ? own : String(0.15 * Number(own || 1));
      if (group === null) delete el.__optivizOpacity;
    }
    if (group) gd.dataset.optivizHighlight = group; // read by the tests
    else delete gd.dataset.optivizHighlight;
  }
}

// ------------------------------------------------------------------------------------------ touch readout

// A tap on the contour on a touch screen: a small box at the tap with x, y and f there, and a "Start here"
// button that moves the start (a tap alone must not: reading f is what a finger on the chart is for).
class TouchReadout {
  constructor(chart) {
    this.chart = chart;
    this.box = null;
    this.point = null;
  }

  show(point, native) {
    const { gd, root } = this.chart;
    this.close();
    const x = Number(point.x);
    const y = Number(point.y);
    const f = Number.isFinite(point.z) ? point.z : surfaceValue(gd, x, y);
    this.point = { x, y };
    const box = document.createElement("div");
    box.className = "optiviz-touch";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "The surface at the point tapped");
    const fmt = (v) => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : "—");
    const text = document.createElement("span");
    text.className = "optiviz-touch-value";
    text.textContent = `(${fmt(x)}, ${fmt(y)})  f = ${fmt(f)}`;
    const start = document.createElement("button");
    start.type = "button";
    start.className = "optiviz-touch-start";
    start.textContent = "Start here";
    start.addEventListener("click", () => {
      const at = this.point;
      this.close();
      if (at && this.chart.hooks && this.chart.hooks.onClick) this.chart.hooks.onClick(at);
    });
    const close = document.createElement("button");
    close.type = "button";
    close.className = "optiviz-touch-close";
    close.textContent = "×";
    close.title = "Close";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", () => this.close());
    box.append(text, start, close);
    root.appendChild(box);
    // at the tap, inside the chart: below the finger, or above it near the chart's bottom
    const area = root.getBoundingClientRect();
    const fl = gd._fullLayout;
    let left = native && Number.isFinite(native.clientX) ? native.clientX - area.left
      : gd.offsetLeft + fl.xaxis._offset + fl.xaxis.l2p(x);
    let top = native && Number.isFinite(native.clientY) ? native.clientY - area.top
      : gd.offsetTop + fl.yaxis._offset + fl.yaxis.l2p(y);
    left = Math.max(0, Math.min(left - box.offsetWidth / 2, root.clientWidth - box.offsetWidth));
    top = top + 18 + box.offsetHeight > root.clientHeight ? top - 18 - box.offsetHeight : top + 18;
    box.style.left = `${left}px`;
    box.style.top = `${top}px`;
    this.box = box;
    gd.dataset.optivizTouch = `${x},${y}`; // read by the tests
  }

  close() {
    if (this.box) this.box.remove();
    this.box = null;
    this.point = null;
    delete this.chart.gd.dataset.optivizTouch;
  }
}

// f at (x, y) from the contour's invisible heatmap (the "surface" trace): its nearest grid point.
function surfaceValue(gd, x, y) {
  const trace = (gd._fullData || []).find((t) => t.type === "heatmap" && t.name === "surface");
  if (!trace || !trace.z) return NaN;
  const nearest = (values, v) => {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (Math.abs(values[i] - v) < Math.abs(values[best] - v)) best = i;
    return best;
  };
  const i = nearest(trace.x, x);
  const j = nearest(trace.y, y);
  const row = trace.z[j];
  const value = row && row.length !== undefined ? row[i] : trace.z[j * trace.x.length + i];
  return Number(value);
}

// ------------------------------------------------------------------------------------------ the chart

function createChart(parentElement) {
  const root = document.createElement("div");
  root.className = "optiviz-chart";
  const gd = document.createElement("div");
  gd.className = "optiviz-plotly";
  gd.tabIndex = 0; // a click gives the chart the focus, and with it the playback keys
  root.appendChild(gd);
  parentElement.appendChild(root);
  const chart = {
    root, gd, text: null, queue: Promise.resolve(), drawn: null, cache: new Map(), clicks: false,
    narrow: false, narrowBelow: null, drawing: false, cursors: null, lastStep: 0, player: null, preview: null,
    setTriggerValue: null, setStateValue: null,
  };
  gd.__optiviz = chart;
  // The loss chart's cursors follow the trajectory chart's step.
  chart.follow = async (t) => {
    chart.lastStep = t;
    if (!chart.cursors || chart.drawing || !window.Plotly) return;
    const data = chart.cursors.map(() => ({ x: [t, t] }));
    await window.Plotly.animate(gd, { data, traces: chart.cursors }, atOnce()).catch(() => {});
  };
  const onStep = (event) => {
    if (!chart.player || !chart.player.pb) chart.follow(event.detail.t);
    if (chart.view3d) chart.view3d.follow(event.detail.t);
  };
  const onGoto = (event) => {
    if (chart.player && chart.player.pb && event.detail.t !== chart.player.t) {
      chart.player.goto(event.detail.t, { report: false, pause: true });
    }
  };
  chart.preview = new PreviewLayer(chart);
  chart.highlight = new RunHighlight(chart);
  chart.touch = new TouchReadout(chart);
  // how the last press came (mouse, pen, touch): a tap on a touch screen reads the surface, a click sets the start
  gd.addEventListener("pointerdown", (event) => { chart.pointerType = event.pointerType; }, true);
  const onPreview = (event) => chart.preview.show(event.detail);
  const onPreviewEnd = () => chart.preview.clear();
  const bus = pageBus();
  bus.addEventListener("step", onStep);
  bus.addEventListener("goto", onGoto);
  bus.addEventListener("preview", onPreview);
  bus.addEventListener("preview-end", onPreviewEnd);
  root.addEventListener("keydown", (event) => chart.player && chart.player.onKey(event));
  chart.dispose = () => {
    bus.removeEventListener("step", onStep);
    bus.removeEventListener("goto", onGoto);
    bus.removeEventListener("preview", onPreview);
    bus.removeEventListener("preview-end", onPreviewEnd);
    if (chart.player) chart.player.pause();
    if (chart.view3d) chart.view3d.disposed = true;
    if (chart.resizer) chart.resizer.disconnect();
    if (chart.onWindowResize) window.removeEventListener("resize", chart.onWindowResize);
    if (chart.pageObserver) chart.pageObserver.disconnect();
    if (chart.touch) chart.touch.close();
    if (window.Plotly && chart.drawn) window.Plotly.purge(gd);
    root.remove();
  };
  return chart;
}

// The focus layout's contour is sized to the room the screen leaves under the chart's top: drawn again when
// that room changes, with the window's height or with what is above the chart (the formula typeset, a lesson's
// text or a warning shown after the chart was drawn). Returns the window listener, for dispose.
function fitScreenOnResize(chart, redraw) {
  let timer = null;
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const fit = chart.fit;
      if (!chart.fitsScreen || !chart.drawn || !fit || chart.drawing) return;
      const side = squareSide(fit.square, chart.gd.clientWidth, chart.gd);
      if (Math.abs(side - fit.side) >= 2) redraw();
    }, 120);
  };
  window.addEventListener("resize", check);
  const page = chart.gd.closest("[data-testid=stMainBlockContainer]") || document.body;
  if (typeof ResizeObserver === "function") {
    chart.pageObserver = new ResizeObserver(check);
    chart.pageObserver.observe(page);
  }
  return check;
}

// Draw `text` (a figure's JSON) in `chart`, after any draw under way; a draw superseded while waiting is
// skipped. `hooks`: {onStep(t), onClick({x, y})}, each optional.
function show(chart, text, config, plotlyUrl, hooks) {
  chart.text = text;
  if (chart.touch) chart.touch.close();
  chart.queue = chart.queue
    .then(() => loadPlotly(plotlyUrl))
    .then(async (Plotly) => {
      if (chart.text !== text) return;
      if (!chart.player) chart.player = new Player(Plotly, chart);
      await draw(Plotly, chart, text, config);
      const gd = chart.gd;
      if (!chart.resizer && typeof ResizeObserver === "function") {
        // The container can change width without the window resizing (the sidebar opens or closes).
        let width = gd.clientWidth;
        const redraw = () => {
          const current = chart.text;
          chart.queue = chart.queue.then(() => (chart.text === current ? draw(Plotly, chart, current, config) : null));
        };
        chart.resizer = new ResizeObserver(() => {
          if (gd.clientWidth !== width && chart.drawn) {
            width = gd.clientWidth;
            if (chart.squared || (chart.narrowBelow !== null && (width < chart.narrowBelow) !== chart.narrow)) {
              // across the narrow-screen width, or a contour sized to the width: the layout for the new width
              redraw();
            } else {
              Plotly.Plots.resize(gd);
            }
          }
        });
        chart.resizer.observe(gd);
        chart.onWindowResize = fitScreenOnResize(chart, redraw);
      }
      if (hooks.onClick && !chart.clicks) {
        chart.clicks = true;
        gd.on("plotly_click", (event) => {
          const point = (event.points || []).find((p) => p.xaxis && p.xaxis._id === "x" && p.yaxis._id === "y");
          if (!point) return;
          // A tap reads f there; only the readout's "Start here" moves the start. A click moves it at once.
          if (chart.pointerType === "touch") chart.touch.show(point, event.event);
          else chart.hooks.onClick({ x: point.x, y: point.y });
        });
      }
    })
    .catch((error) => {
      chart.gd.textContent = `The chart could not be drawn: ${(error && error.message) || error}`;
      chart.drawn = null;
    });
  chart.hooks = hooks;
}

// The chart in a page of its own (optiviz.export.to_html), with plotly.js already on the page.
export function mountStandalone(container, text, config) {
  const chart = createChart(container);
  show(chart, text, config, null, {});
  return chart;
}

export default function (component) {
  const { parentElement, data, setTriggerValue, setStateValue } = component;
  const root = parentElement.querySelector("div.optiviz-chart");
  const chart = root ? root.querySelector("div.optiviz-plotly").__optiviz : createChart(parentElement);
  const hooks = {
    onStep: (t) => setStateValue("step", t),
    onClick: data && data.clickable ? (point) => setTriggerValue("click", point) : null,
  };
  chart.hooks = hooks;
  if (!data || chart.text === data.figure) return undefined;
  show(chart, data.figure, data.config || {}, data.plotly_url, hooks);
  // Called when the chart leaves the page (the 3D view switched off, no runs left): free what it holds.
  return chart.dispose;
}
