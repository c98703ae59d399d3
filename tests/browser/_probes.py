"""The JavaScript the browser tests evaluate in the page: helpers and probes of the charts' state,
kept apart from the tests so that each test reads as what it checks."""

# Helpers evaluated on the main chart's element (``el``). Arrays arrive as plain lists or in Plotly's
# {dtype, bdata} encoding, which plotly.js decodes into a typed array it keeps as `_inputArray`: `plain`
# makes a list of any of them.
JS_HELPERS = """
const plain = v => v == null ? v : v._inputArray ? Array.from(v._inputArray)
                   : ArrayBuffer.isView(v) ? Array.from(v) : v;
const onMain = t => (t.xaxis || 'x') === 'x' && (t.yaxis || 'y') === 'y';
// A run's full path: its line on the main axes (not its halo or animated trail, not a moment panel).
const isPath = t => onMain(t) && t.mode === 'lines' && /^run\\d+$/.test(t.legendgroup || '')
                    && !/ (trail|halo)$/.test(t.name || '');
const hash = text => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return `${text.length}:${h.toString(16)}`;
};
"""

# The structure of the main chart, as the tests check it.
CHART_SUMMARY = (
    "el => {"
    + JS_HELPERS
    + """
  const surface = el.data.find(t => t.name === 'surface');
  return {
    images: (el.layout.images || []).map(im => ({
      xref: im.xref, yref: im.yref, png: /^data:image\\/png/.test(im.source || '')})),
    imageDrawn: el.querySelectorAll('.layer-below .imagelayer image, .imagelayer image').length,
    surface: surface ? {type: surface.type, opacity: surface.opacity,
                        points: plain(surface.x).length * plain(surface.y).length} : null,
    paths: el.data.filter(isPath).map(t => ({name: t.name, group: t.legendgroup, points: plain(t.x).length})),
    frames: ((el._transitionData && el._transitionData._frames) || []).length,
    plotlyControls: (el.layout.sliders || []).length + (el.layout.updatemenus || []).length,
    player: (() => { const bar = el.parentElement.querySelector('.optiviz-player');
                     return bar && !bar.hidden ? bar.querySelector('.optiviz-readout').textContent : null; })(),
    clickmode: el._fullLayout.clickmode,
  };
}"""
)

# Each run's path on the main chart: {legendgroup: {name, sig}} where sig hashes the path's x and y.
PATHS = (
    "el => {"
    + JS_HELPERS
    + """
  const out = {};
  for (const t of el.data.filter(isPath))
    out[t.legendgroup] = {name: t.name, sig: hash(JSON.stringify([plain(t.x), plain(t.y)]))};
  return out;
}"""
)

# The step the chart shows, and each run's head (where it is at that step), from the chart's own data.
PLAYER_STATE = (
    "el => {"
    + JS_HELPERS
    + """
  const heads = el.data.filter(t => / now$/.test(t.name || '')).map(t => [plain(t.x)[0], plain(t.y)[0]]);
  const bar = el.parentElement.querySelector('.optiviz-player');
  return {step: Number(el.dataset.optivizStep), readout: bar.querySelector('.optiviz-readout').textContent,
          playing: bar.dataset.playing === 'true', heads};
}"""
)

# A point of the invisible "surface" heatmap's grid to click: the one farthest (in screen pixels) from everything
# else drawn on the main axes (paths, heads, start, minimum), at least a quarter of the domain away from
# the current start. Returns its data coordinates and its position in the viewport.
CLICK_TARGET = (
    "el => {"
    + JS_HELPERS
    + """
  const fl = el._fullLayout, xa = fl.xaxis, ya = fl.yaxis, box = el.getBoundingClientRect();
  const px = x => box.left + xa._offset + xa.l2p(x), py = y => box.top + ya._offset + ya.l2p(y);
  const others = [];
  for (const t of el.data) {
    if (!onMain(t) || t.name === 'surface' || t.x == null) continue;
    const xs = plain(t.x), ys = plain(t.y);
    for (let i = 0; i < xs.length; i++)
      if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) others.push([px(xs[i]), py(ys[i])]);
  }
  const start = el.data.find(t => t.name === 'start');
  const [sx, sy] = [plain(start.x)[0], plain(start.y)[0]];
  const [x0, x1] = xa.range, [y0, y1] = ya.range;
  const surface = el.data.find(t => t.name === 'surface');
  const gx = plain(surface.x), gy = plain(surface.y);
  let best = null;
  for (let i = 0; i < gx.length * gy.length; i++) {
    const [x, y] = [gx[i % gx.length], gy[Math.floor(i / gx.length)]];
    // stay off the plot's edges (axis lines, the modebar) and well away from the current start
    const [mx, my] = [0.1 * (x1 - x0), 0.1 * (y1 - y0)];
    if (x < x0 + mx || x > x1 - mx || y < y0 + my || y > y1 - my) continue;
    if (Math.hypot((x - sx) / (x1 - x0), (y - sy) / (y1 - y0)) < 0.25) continue;
    let d = Infinity;
    for (const [ox, oy] of others) d = Math.min(d, Math.hypot(px(x) - ox, py(y) - oy));
    if (best === null || d > best.clearance) best = {x, y, clientX: px(x), clientY: py(y), clearance: d};
  }
  return best;
}"""
)

# The start marker and the first point of every path: where the runs now begin.
STARTS = (
    "el => {"
    + JS_HELPERS
    + """
  const start = el.data.find(t => t.name === 'start');
  return {start: [plain(start.x)[0], plain(start.y)[0]],
          paths: el.data.filter(isPath).map(t => [plain(t.x)[0], plain(t.y)[0]])};
}"""
)


# After an update, the chart must show exactly what a fresh Plotly.newPlot of the figure it was given shows
# (taken to the same step by the same player): every trace's data and labels, every axis range, the legend
# and the tick labels. Draws that figure (kept by the component as `el.__optiviz.figure`, packed arrays
# unpacked) in a hidden div and returns the differences.
COMPARE_WITH_FRESH_DRAW = (
    "async el => {"
    + JS_HELPERS
    + """
  const same = (a, b) => JSON.stringify(plain(a)) === JSON.stringify(plain(b));
  const fig = el.__optiviz.figure;
  const fresh = document.createElement('div');
  fresh.style.cssText = `position:absolute;left:-5000px;width:${el.clientWidth}px`;
  document.body.appendChild(fresh);
  await Plotly.newPlot(fresh, {data: fig.data, layout: fig.layout});
  const player = el.__optiviz.player;
  if (player && player.pb) {  // the fresh chart at the step the updated one shows
    const {data, traces} = player.frame(player.t);
    await Plotly.animate(fresh, {data, traces},
                         {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}});
  }
  const diffs = [];
  if (el.data.length !== fresh.data.length) diffs.push(`traces: ${el.data.length} vs ${fresh.data.length}`);
  fresh.data.forEach((t, i) => {
    for (const k of ['x', 'y', 'x0', 'dx', 'customdata', 'name', 'hovertemplate'])
      if (!same(el.data[i][k], t[k])) diffs.push(`trace ${i} (${t.name}) ${k}`);
  });
  for (const k of Object.keys(fresh.layout).filter(k => /^[xy]axis\\d*$/.test(k)))
    if (!same(el.layout[k].range, fresh.layout[k].range)) diffs.push(`${k}.range`);
  // what is drawn, not only what the chart holds: the legend's entries
  const legend = g => Array.from(g.querySelectorAll('.legendtext')).map(e => e.textContent);
  if (!same(legend(el), legend(fresh))) diffs.push(`legend: ${legend(el).join(' | ')} vs ${legend(fresh).join(' | ')}`);
  // and the tick labels of every axis (the fresh chart has the same width; Plotly keeps a tick's node
  // across updates, so the order in the page is not the order on the axis)
  const ticks = g => Array.from(g.querySelectorAll('.xtick text, .ytick text')).map(e => e.textContent).sort();
  if (!same(ticks(el), ticks(fresh))) diffs.push(`ticks: ${ticks(el).join(' ')} vs ${ticks(fresh).join(' ')}`);
  Plotly.purge(fresh); fresh.remove();
  return diffs;
}"""
)

# Take the chart to step k, as its player does, and wait until it is drawn there.
GO_TO_STEP = """
async (el, k) => {
  const player = el.__optiviz.player;
  player.goto(k, {report: false, pause: true});
  while (Number(el.dataset.optivizStep) !== k || player.busy) await new Promise(r => setTimeout(r, 20));
  return k;
}
"""


# Plotly's own findArrayAttributes (kept by the chart component as `.optivizOriginal`) against the
# component's concat-free copy, on every trace of every chart on the page and on a scratch chart of other
# trace types (nested and linked-to-array containers, colorbar tick arrays, typed arrays). Returns the
# traces where they differ, and how many were compared.
COMPARE_FIND_ARRAY_ATTRIBUTES = """
async () => {
  const schema = window.Plotly.PlotSchema, fast = schema.findArrayAttributes, own = fast.optivizOriginal;
  if (typeof own !== 'function') return {installed: false};
  const xs = [0, 1, 2, 3], ys = new Float32Array([3, 1, 2, 0]);
  const scratch = document.createElement('div');
  document.body.appendChild(scratch);
  await window.Plotly.newPlot(scratch, [
    {type: 'scatter', x: xs, y: ys, text: ['a', 'b', 'c', 'd'], customdata: [[1], [2], [3], [4]],
     ids: ['p', 'q', 'r', 's'],
     marker: {color: xs, size: [6, 7, 8, 9], symbol: ['circle', 'x', 'circle', 'x'], line: {width: [1, 2, 1, 2]},
              colorbar: {tickvals: [0, 3], ticktext: ['lo', 'hi']}, showscale: true},
     error_y: {type: 'data', array: [0.1, 0.2, 0.1, 0.2]}, hoverlabel: {bgcolor: ['red', 'blue', 'red', 'blue']},
     textposition: ['top left', 'top right', 'top left', 'top right'], hovertext: 'same for all'},
    {type: 'bar', x: xs, y: [1, 2, 3, 4], marker: {pattern: {shape: ['/', '', 'x', '']}}, width: [0.5, 0.6, 0.7, 0.8]},
    {type: 'heatmap', z: [[1, 2], [3, 4]], x: [0, 1], y: [0, 1], xaxis: 'x2', yaxis: 'y2'},
    {type: 'contour', z: [[1, 2], [3, 4]], xaxis: 'x2', yaxis: 'y2'},
    {type: 'parcats', dimensions: [{values: ['a', 'b', 'a', 'b'], label: 'one'}, {values: [1, 2, 2, 1], label: 'two'}],
     line: {color: xs}, domain: {x: [0.6, 1], y: [0.6, 1]}},
    {type: 'pie', values: [1, 2, 3], labels: ['u', 'v', 'w'], marker: {colors: ['#111', '#555', '#999']},
     domain: {x: [0.6, 1], y: [0, 0.4]}},
  ], {xaxis: {domain: [0, 0.45]}, xaxis2: {domain: [0.5, 0.55], anchor: 'y2'}, yaxis2: {anchor: 'x2'},
      width: 900, height: 400});
  const diffs = [];
  let compared = 0;
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  for (const [c, gd] of charts.entries()) {
    for (const [i, trace] of gd._fullData.entries()) {
      const a = JSON.stringify(fast(trace)), b = JSON.stringify(own(trace));
      compared += 1;
      if (a !== b) diffs.push({chart: c, trace: i, type: trace.type, fast: a, own: b});
    }
  }
  const scratchAttrs = scratch._fullData.map(t => own(t));
  window.Plotly.purge(scratch);
  scratch.remove();
  return {installed: true, diffs, compared, charts: charts.length, scratchAttrs};
}
"""

# The 3D view (the chart whose layout has a scene): the step it shows, each run's head (x, y, z) and trail length
# from its own data, and its camera. Null while it is not drawn.
SURFACE3D_STATE = (
    "() => {"
    + JS_HELPERS
    + """
  const el = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.scene);
  if (!el || !el.dataset.optivizRevision || el.dataset.optivizStep3d === undefined) return null;
  const view = el.__optiviz.view3d;
  const named = re => el.data.filter(t => re.test(t.name || ''));
  return {step: Number(el.dataset.optivizStep3d), busy: Boolean(view && view.busy),
          heads: named(/ now$/).map(t => [plain(t.x)[0], plain(t.y)[0], plain(t.z)[0]]),
          trails: named(/ trail$/).map(t => plain(t.x).length),
          eye: el._fullLayout.scene.camera.eye};
}"""
)
