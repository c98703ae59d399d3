// optiviz/_codec.py's packed columns, decoded in the page. _assets.py puts this file in front of the chart's
// and the previews' scripts, so both read the one format the same way.

async function inflate(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// optiviz/_codec.py's decode: columns of float64, NaN where a value was missing.
async function decodeColumns(packed) {
  const bytes = await inflate(packed.b64);
  const count = bytes.length / 4;
  const out = [];
  let at = 0;
  for (const [n, lo, hi, bits] of packed.columns) {
    const top = 2 ** bits - 2;
    const values = new Float64Array(n);
    let q = 0;
    for (let i = 0; i < n; i++, at++) {
      const z = bytes[at] | (bytes[count + at] << 8) | (bytes[2 * count + at] << 16) | (bytes[3 * count + at] << 24);
      q += (z >>> 1) ^ -(z & 1); // zigzag: 0, -1, 1, -2, ... were stored as 0, 1, 2, 3, ...
      values[i] = q === top + 1 ? NaN : lo + (q / top) * (hi - lo);
    }
    out.push(values);
  }
  return out;
}
