// node render.mjs COUNT OUTDIR SEED
//
// Writes COUNT generated cartoon characters into OUTDIR, two SVGs each:
//   NAME.color.svg  the character as drawn
//   NAME.line.svg   its line art (the rule is in lineArt() below)
// and prints one JSON manifest on stdout: the rule's thresholds and, per character, its
// source, sex, skin and hair. Even indexes are facesjs faces, odd ones DiceBear Adventurer
// heads, so the count is split about half and half. The same SEED gives the same files.
//
// facesjs (Apache-2.0) by Jeremy Scheff. DiceBear Adventurer: artwork "Adventurer" by
// Lisa Wischofsky, CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAvatar } from "@dicebear/core";
import * as adventurer from "@dicebear/adventurer";
import { faceToSvgString, generate } from "facesjs";

// A literal artwork color (one not chosen through an option) darker than this Rec. 601 luma
// is ink: it becomes black in the line art. Lighter ones are paint. The threshold puts #000
// and #333 on the ink side and the dark-red mouth inside (#8F2E45, luma 0.30) on the paint side.
const INK_LUMA = 0.25;
// Below this opacity an element is shading or a lens, not a line: hidden in the line art.
const MIN_OPACITY = 0.5;

// Skin from very light to very dark, for both sources (DiceBear's own four lie inside it);
// character k of a source with seed S gets SKIN[(k + S) % SKIN.length].
const SKIN = [
  "#f9e0cc", "#f2d3b1", "#ecad80", "#d49a6a", "#b97a4d",
  "#9e5622", "#7f4a2a", "#763900", "#5a2e17", "#3e2214",
];
const HAIR = [
  "#0e0e0e", "#272421", "#3d2314", "#562306", "#6a4e35", "#796a45", "#ac6511", "#cb6820",
  "#ab2a18", "#b55239", "#b9a05f", "#e5d7a3", "#afafaf", "#3eac2c", "#85c2c6", "#dba3be",
  "#592454", "#2a4fa8",
];
const ADVENTURER_HAIR = {
  female: Array.from({ length: 26 }, (_, i) => `long${String(i + 1).padStart(2, "0")}`),
  male: Array.from({ length: 19 }, (_, i) => `short${String(i + 1).padStart(2, "0")}`),
};

// mulberry32: a small seeded PRNG, so every character depends only on (SEED, index).
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (rand, items) => items[Math.floor(rand() * items.length)];
const hex = (rand) =>
  "#" + Array.from({ length: 3 }, () => Math.floor(rand() * 256).toString(16).padStart(2, "0")).join("");

// --- the line rule -----------------------------------------------------------------------

function parseColor(value) {
  // {r, g, b, a} in 0..1, or null for none / transparent / gradients / unknown.
  const v = value.trim().toLowerCase();
  if (v === "none" || v === "transparent" || v.startsWith("url(")) return null;
  if (v === "black") return { r: 0, g: 0, b: 0, a: 1 };
  if (v === "white") return { r: 1, g: 1, b: 1, a: 1 };
  let m = v.match(/^#([0-9a-f]{3})$/);
  if (m) {
    const [r, g, b] = [...m[1]].map((c) => parseInt(c + c, 16) / 255);
    return { r, g, b, a: 1 };
  }
  m = v.match(/^#([0-9a-f]{6})$/);
  if (m) {
    const n = parseInt(m[1], 16);
    return { r: (n >> 16) / 255, g: ((n >> 8) & 255) / 255, b: (n & 255) / 255, a: 1 };
  }
  m = v.match(/^rgba?\(([^)]*)\)$/);
  if (m) {
    const parts = m[1].split(",").map((s) => parseFloat(s));
    return { r: parts[0] / 255, g: parts[1] / 255, b: parts[2] / 255, a: parts[3] ?? 1 };
  }
  return null;
}

const luma = (c) => 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;

function lineArt(svg, paintColors) {
  // Line art of an SVG whose ink is drawn in black (facesjs strokes, DiceBear's black shapes
  // under the colored ones). Per element:
  // - a fill chosen through an option (skin, hair, clothes: `paintColors`) is paint whatever
  //   its luma, so dark skin or black hair is never taken for ink; it becomes white, which
  //   keeps the occlusion (hair hides the forehead line) and keeps eyes and mouth drawn on top;
  // - other fills: ink (luma < INK_LUMA) becomes black, paint becomes white;
  // - strokes: ink becomes black, the rest is removed;
  // - translucent fills, gradients and elements under MIN_OPACITY are removed (shading, lenses).
  // Solid black areas are reduced to their outline after rendering (faces.py), because
  // the black shapes behind colored ones must stay filled here to draw their outline band.
  const paint = new Set([...paintColors].map((c) => c.toLowerCase()));
  return svg.replace(/<(path|circle|ellipse|rect|polygon|polyline|line|g)\b([^>]*?)(\/?)>/g, (tag, name, body, close) => {
    const attrs = {};
    let rest = body.replace(/\s([a-z-]+)="([^"]*)"/g, (all, key, value) => {
      if (["fill", "stroke", "opacity", "fill-opacity", "stroke-opacity", "style"].includes(key)) {
        attrs[key] = value;
        return "";
      }
      return all;
    });
    const style = {};
    for (const decl of (attrs.style ?? "").split(";")) {
      const [key, ...value] = decl.split(":");
      if (key.trim()) style[key.trim()] = value.join(":").trim();
    }
    const fill = style.fill ?? attrs.fill;
    const stroke = style.stroke ?? attrs.stroke;
    const opacity = parseFloat(style.opacity ?? attrs.opacity ?? "1");
    const fillOpacity = parseFloat(style["fill-opacity"] ?? attrs["fill-opacity"] ?? "1");
    const out = [];
    if (opacity < MIN_OPACITY) out.push('display="none"');
    if (fill !== undefined) {
      const c = parseColor(fill);
      if (c === null || c.a * fillOpacity < MIN_OPACITY) out.push('fill="none"');
      else if (paint.has(fill.trim().toLowerCase()) || luma(c) >= INK_LUMA) out.push('fill="#fff"');
      else out.push('fill="#000"');
    }
    if (stroke !== undefined) {
      const c = parseColor(stroke);
      out.push(c !== null && c.a >= MIN_OPACITY && luma(c) < INK_LUMA ? 'stroke="#000"' : 'stroke="none"');
    }
    const kept = Object.entries(style)
      .filter(([key]) => !["fill", "stroke", "opacity", "fill-opacity", "stroke-opacity"].includes(key))
      .map(([key, value]) => `${key}:${value}`)
      .join(";");
    if (kept) out.push(`style="${kept}"`);
    return `<${name}${rest.trimEnd()}${out.length ? " " + out.join(" ") : ""}${close}>`;
  });
}

// --- the two sources ---------------------------------------------------------------------

function facesjsCharacter(rand, skin) {
  const sex = rand() < 0.5 ? "female" : "male";
  const hair = pick(rand, HAIR);
  const team = [hex(rand), hex(rand), hex(rand)];
  const saved = Math.random;
  Math.random = rand; // facesjs draws its features with Math.random
  let face;
  try {
    face = generate({ body: { color: skin }, hair: { color: hair }, teamColors: team }, { gender: sex });
  } finally {
    Math.random = saved;
  }
  // facesjs draws on a 400×600 canvas; a square 600×600 view centres the face and shoulders.
  const color = faceToSvgString(face)
    .replace(/\swidth="100%"\sheight="100%"/, "")
    .replace(/viewBox="0 0 400 600"/, 'viewBox="-100 0 600 600"');
  const paint = [skin, hair, ...team];
  return { color, line: lineArt(color, paint), sex, skin, hair };
}

function adventurerCharacter(rand, skin, name) {
  const sex = rand() < 0.5 ? "female" : "male";
  const hair = pick(rand, HAIR);
  const avatar = createAvatar(adventurer, {
    seed: name,
    skinColor: [skin.slice(1)],
    hairColor: [hair.slice(1)],
    hair: ADVENTURER_HAIR[sex],
    hairProbability: 100,
    glassesProbability: 15,
    earringsProbability: sex === "female" ? 40 : 10,
    featuresProbability: 20,
  });
  const color = avatar.toString();
  return { color, line: lineArt(color, [skin, hair]), sex, skin, hair };
}

// --- main --------------------------------------------------------------------------------

const [countArg, outDir, seedArg = "0"] = process.argv.slice(2);
const count = Number.parseInt(countArg, 10);
const seed = Number.parseInt(seedArg, 10);
if (!Number.isInteger(count) || count < 0 || !outDir || !Number.isInteger(seed)) {
  console.error("usage: node render.mjs COUNT OUTDIR SEED");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const characters = [];
for (let i = 0; i < count; i++) {
  const source = i % 2 === 0 ? "facesjs" : "adventurer";
  const name = `face${seed}_${String(i).padStart(5, "0")}_${source}`;
  const rand = prng(Math.imul(seed + 1, 0x9e3779b1) ^ i);
  // Skin tones take turns per source, so every tone is as common as the others.
  const skin = SKIN[(Math.floor(i / 2) + seed) % SKIN.length];
  const c = source === "facesjs" ? facesjsCharacter(rand, skin) : adventurerCharacter(rand, skin, name);
  writeFileSync(join(outDir, `${name}.color.svg`), c.color);
  writeFileSync(join(outDir, `${name}.line.svg`), c.line);
  characters.push({ name, source, sex: c.sex, skin: c.skin, hair: c.hair });
}
process.stdout.write(
  JSON.stringify({ rule: { ink_luma_below: INK_LUMA, min_opacity: MIN_OPACITY }, characters }),
);
