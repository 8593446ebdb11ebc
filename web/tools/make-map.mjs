// Builds crates/cuakhau-server/web/map.json: the Vietnam–China border region as SVG paths, from
// Natural Earth 1:10m country shapes (public domain) as packaged by the npm package world-atlas@2.
//
//   cd web/tools && npm install --no-save world-atlas@2 topojson-client@3 && node make-map.mjs
//
// Shapes are clipped to the border region, projected equirectangularly (x scaled by cos of the
// middle latitude) and rounded; the client projects gate coordinates with the same numbers.
import { readFileSync, writeFileSync } from "node:fs";
import { feature, mesh } from "topojson-client";

const topo = JSON.parse(readFileSync(new URL("./node_modules/world-atlas/countries-10m.json", import.meta.url)));
const [W, E, S, N] = [101.9, 108.6, 20.8, 23.8];
const k = Math.cos(((S + N) / 2) * Math.PI / 180);
const scale = 1000 / ((E - W) * k);
const proj = ([lon, lat]) => [Math.round((lon - W) * k * scale * 10) / 10, Math.round((N - lat) * scale * 10) / 10];

// Sutherland–Hodgman against the box, one edge at a time.
function clip(ring) {
  const edges = [
    [(p) => p[0] >= W, (a, b) => cut(a, b, 0, W)],
    [(p) => p[0] <= E, (a, b) => cut(a, b, 0, E)],
    [(p) => p[1] >= S, (a, b) => cut(a, b, 1, S)],
    [(p) => p[1] <= N, (a, b) => cut(a, b, 1, N)],
  ];
  function cut(a, b, axis, v) {
    const t = (v - a[axis]) / (b[axis] - a[axis]);
    return [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
  }
  let out = ring;
  for (const [inside, inter] of edges) {
    const input = out;
    out = [];
    for (let i = 0; i < input.length; i++) {
      const cur = input[i], prev = input[(i + input.length - 1) % input.length];
      if (inside(cur)) {
        if (!inside(prev)) out.push(inter(prev, cur));
        out.push(cur);
      } else if (inside(prev)) out.push(inter(prev, cur));
    }
    if (!out.length) break;
  }
  return out;
}

function path(rings, closed) {
  return rings
    .map((r) => {
      const pts = r.map(proj).filter((p, i, a) => i === 0 || p[0] !== a[i - 1][0] || p[1] !== a[i - 1][1]);
      if (pts.length < 2) return "";
      return "M" + pts.map((p) => p.join(",")).join("L") + (closed ? "Z" : "");
    })
    .join("");
}

const countries = feature(topo, topo.objects.countries).features;
const shape = (id) => {
  const g = countries.find((f) => f.id === id).geometry;
  const polys = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
  return path(polys.flatMap((p) => p.map(clip)).filter((r) => r.length > 2), true);
};
const border = mesh(topo, topo.objects.countries, (a, b) => (a.id === "704" && b.id === "156") || (a.id === "156" && b.id === "704"));
const lines = border.coordinates.map((l) => l.filter(([lon, lat]) => lon >= W && lon <= E && lat >= S && lat <= N));
const out = {
  source: "Natural Earth 1:10m Admin 0 countries (public domain), via the npm package world-atlas@2 (ISC); see web/tools/make-map.mjs",
  bounds: { west: W, east: E, south: S, north: N },
  k,
  scale,
  width: 1000,
  height: Math.round((N - S) * scale),
  vn: shape("704"),
  cn: shape("156"),
  // Laos, west of the border region: land, not sea.
  la: shape("418"),
  border: path(lines, false),
};
writeFileSync(new URL("../../crates/cuakhau-server/web/map.json", import.meta.url), JSON.stringify(out));
console.log(`map.json: ${JSON.stringify(out).length} bytes, ${out.width}×${out.height}`);
