// node render.mjs COUNT OUTDIR SEED
//
// Writes COUNT generated cartoon characters into OUTDIR, three SVGs each:
//   NAME.color.svg  the character as drawn
//   NAME.line.svg   its line art (the rule is in lineArt() below)
//   NAME.parts.svg  its part map: every part (skin, hair, eyes, clothes) filled with its own
//                   flat ID color (PART_IDS), everything else white (partsArt() below)
// and prints one JSON manifest on stdout: the rule's thresholds, the part ID colors and, per
// character, its source, sex and the colors of its parts. Character i comes from
// STYLES[i % STYLES.length], so the styles share the count evenly. The same SEED gives the
// same files.
//
// Skin runs from very light to very dark; hair, eyes and clothes are drawn from wide ranges
// (natural hair colors and any hue, light to dark), so no part has one usual color.
//
// Licences (each style's package metadata and LICENSE file): facesjs Apache-2.0 (Jeremy
// Scheff). DiceBear code MIT; artwork: Adventurer (Lisa Wischofsky) and Micah ("Avatar
// Illustration System", Micah Lanier) CC BY 4.0, Open Peeps (Pablo Stanley) CC0 1.0.
// DiceBear styles drawn without black outlines (Personas, Big Smile, Miniavs) or with hair
// outlined in the hair color (Lorelei) give no line art and are left out.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAvatar } from "@dicebear/core";
import * as adventurer from "@dicebear/adventurer";
import * as micah from "@dicebear/micah";
import * as openPeeps from "@dicebear/open-peeps";
import { faceToSvgString, generate } from "facesjs";

// A literal artwork color (one not chosen through an option) darker than this Rec. 601 luma
// is ink: it becomes black in the line art. Lighter ones are paint. The threshold puts #000
// and #333 on the ink side and the dark-red mouth inside (#8F2E45, luma 0.30) on the paint side.
const INK_LUMA = 0.25;
// Below this opacity an element is shading or a lens, not a line: hidden in the line art.
const MIN_OPACITY = 0.5;
// The part map's flat colors; white is "no part" (paper, lines, accessories, mouths…).
const PART_IDS = { skin: "#ff0000", hair: "#00ff00", eyes: "#0000ff", clothes: "#ffff00" };

// Skin from very light to very dark (DiceBear's own tones lie inside it); character i gets
// SKIN[(floor(i / styles) + SEED) % SKIN.length], so every tone is as common as the others.
const SKIN = [
  "#f9e0cc", "#f2d3b1", "#ecad80", "#d49a6a", "#b97a4d",
  "#9e5622", "#7f4a2a", "#763900", "#5a2e17", "#3e2214",
];
// Natural hair: black, browns, auburn, ginger, blondes, gray, white.
const NATURAL_HAIR = [
  "#0e0e0e", "#272421", "#3d2314", "#562306", "#6a4e35", "#796a45", "#ac6511", "#cb6820",
  "#ab2a18", "#b55239", "#b9a05f", "#e5d7a3", "#f3e7b6", "#afafaf", "#e8e8e8",
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
const between = (rand, lo, hi) => lo + (hi - lo) * rand();

function hsv(h, s, v) {
  // h in [0, 360), s and v in [0, 1] → "#rrggbb"
  const f = (n) => {
    const k = (n + h / 60) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return "#" + [f(5), f(3), f(1)].map((x) => Math.round(x * 255).toString(16).padStart(2, "0")).join("");
}

// Wide color ranges: any hue, pale to deep, light to dark.
const vivid = (rand) => hsv(between(rand, 0, 360), between(rand, 0.45, 0.95), between(rand, 0.4, 0.95));
function hairColor(rand) {
  return rand() < 0.4 ? pick(rand, NATURAL_HAIR) : vivid(rand);
}
function clothesColor(rand) {
  const r = rand();
  if (r < 0.12) return hsv(0, 0, pick(rand, [0.08, 0.2, 0.6, 0.95])); // black, gray, white
  return hsv(between(rand, 0, 360), between(rand, 0.3, 0.95), between(rand, 0.3, 0.95));
}
const eyesColor = (rand) => hsv(between(rand, 0, 360), between(rand, 0.4, 0.9), between(rand, 0.3, 0.8));

// Part colors must differ from each other and from the artwork's black and white, so the part
// map can tell them apart: redraw a clash (rare).
function distinct(rand, draw, taken) {
  let c = draw(rand);
  while (taken.has(c) || c === "#000000" || c === "#ffffff") c = draw(rand);
  taken.add(c);
  return c;
}

// --- the rules ----------------------------------------------------------------------------

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

// Rewrite every shape's fill and stroke with `decide(kind, value, parsed, opacity)`, which
// returns the new value (or null to drop the element from view). Elements below MIN_OPACITY
// and blend-mode shading (mix-blend-mode) are hidden.
function rewrite(svg, decide) {
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
    if (opacity < MIN_OPACITY || style["mix-blend-mode"] !== undefined) out.push('display="none"');
    if (fill !== undefined) {
      const c = parseColor(fill);
      const value = c === null || c.a * fillOpacity < MIN_OPACITY ? null : decide("fill", fill.trim().toLowerCase(), c);
      out.push(`fill="${value ?? "none"}"`);
    }
    if (stroke !== undefined) {
      const c = parseColor(stroke);
      const value = c === null || c.a < MIN_OPACITY ? null : decide("stroke", stroke.trim().toLowerCase(), c);
      out.push(`stroke="${value ?? "none"}"`);
    }
    const kept = Object.entries(style)
      .filter(([key]) => !["fill", "stroke", "opacity", "fill-opacity", "stroke-opacity", "mix-blend-mode"].includes(key))
      .map(([key, value]) => `${key}:${value}`)
      .join(";");
    if (kept) out.push(`style="${kept}"`);
    return `<${name}${rest.trimEnd()}${out.length ? " " + out.join(" ") : ""}${close}>`;
  });
}

function lineArt(svg, paintColors) {
  // Line art of an SVG whose ink is drawn in black (facesjs strokes, DiceBear's black shapes
  // under the colored ones). Per element:
  // - a fill chosen through an option (skin, hair, clothes, eyes: `paintColors`) is paint
  //   whatever its luma, so dark skin or black hair is never taken for ink; it becomes white,
  //   which keeps the occlusion (hair hides the forehead line) and keeps eyes and mouth on top;
  // - other fills: ink (luma < INK_LUMA) becomes black, paint becomes white;
  // - strokes: ink becomes black, the rest is removed;
  // - translucent fills, gradients, blend-mode shading and elements under MIN_OPACITY are
  //   removed (shading, lenses).
  // Solid black areas are reduced to their outline after rendering (faces.py), because
  // the black shapes behind colored ones must stay filled here to draw their outline band.
  const paint = new Set([...paintColors].map((c) => c.toLowerCase()));
  return rewrite(svg, (kind, value, c) => {
    if (kind === "fill") return paint.has(value) || luma(c) >= INK_LUMA ? "#fff" : "#000";
    return luma(c) < INK_LUMA ? "#000" : null;
  });
}

function partsArt(svg, parts) {
  // Part map: a fill or stroke in a part's color gets that part's ID color; every other opaque
  // fill or stroke turns white (it still hides what lies under it); shading is removed.
  const ids = new Map(Object.entries(parts).map(([part, color]) => [color.toLowerCase(), PART_IDS[part]]));
  return rewrite(svg, (kind, value) => ids.get(value) ?? "#fff");
}

// --- the sources ---------------------------------------------------------------------------

function facesjsCharacter(rand, skin, name, sex) {
  const taken = new Set([skin]);
  const hair = distinct(rand, hairColor, taken);
  const team = [clothesColor, clothesColor, clothesColor].map((f) => distinct(rand, f, taken));
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
  // The jersey is drawn in the first team color; the others trim it.
  return { color, parts: { skin, hair, clothes: team[0] }, paint: [skin, hair, ...team] };
}

// One DiceBear style: which option carries which part, and extra options.
const DICEBEAR = {
  adventurer: {
    style: adventurer,
    parts: { skin: "skinColor", hair: "hairColor" },
    extra: (sex) => ({
      hair: ADVENTURER_HAIR[sex],
      hairProbability: 100,
      glassesProbability: 15,
      earringsProbability: sex === "female" ? 40 : 10,
      featuresProbability: 20,
    }),
  },
  micah: {
    style: micah,
    parts: { skin: "baseColor", hair: "hairColor", clothes: "shirtColor", eyes: "eyesColor" },
    extra: (sex, hair) => ({ facialHairColor: [hair.slice(1)], facialHairProbability: sex === "male" ? 20 : 0, glassesProbability: 10 }),
  },
  "open-peeps": {
    style: openPeeps,
    // Open Peeps draws hair in black line work (headContrastColor is not the hair).
    parts: { skin: "skinColor", clothes: "clothingColor" },
    extra: () => ({ maskProbability: 0, accessoriesProbability: 10 }),
  },
};
const DRAW = { hair: hairColor, clothes: clothesColor, eyes: eyesColor };

function dicebearCharacter(source, rand, skin, name, sex) {
  const spec = DICEBEAR[source];
  const taken = new Set([skin]);
  const parts = { skin };
  const options = { seed: name };
  for (const [part, option] of Object.entries(spec.parts)) {
    if (part !== "skin") parts[part] = distinct(rand, DRAW[part], taken);
    options[option] = [parts[part].slice(1)];
  }
  const color = createAvatar(spec.style, { ...options, ...spec.extra(sex, parts.hair ?? "#000000") }).toString();
  return { color, parts, paint: Object.values(parts) };
}

export const STYLES = ["facesjs", ...Object.keys(DICEBEAR)];

// --- main --------------------------------------------------------------------------------

function main() {
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
    const source = STYLES[i % STYLES.length];
    const name = `face${seed}_${String(i).padStart(5, "0")}_${source}`;
    const rand = prng(Math.imul(seed + 1, 0x9e3779b1) ^ i);
    const skin = SKIN[(Math.floor(i / STYLES.length) + seed) % SKIN.length];
    const sex = rand() < 0.5 ? "female" : "male";
    const c =
      source === "facesjs"
        ? facesjsCharacter(rand, skin, name, sex)
        : dicebearCharacter(source, rand, skin, name, sex);
    writeFileSync(join(outDir, `${name}.color.svg`), c.color);
    writeFileSync(join(outDir, `${name}.line.svg`), lineArt(c.color, c.paint));
    writeFileSync(join(outDir, `${name}.parts.svg`), partsArt(c.color, c.parts));
    characters.push({ name, source, sex, ...c.parts });
  }
  process.stdout.write(
    JSON.stringify({
      rule: { ink_luma_below: INK_LUMA, min_opacity: MIN_OPACITY },
      part_ids: PART_IDS,
      characters,
    }),
  );
}

main();
