"""Procedural anime-style characters → color / line-art pairs with part maps (issue 15).

The other character sources (facesjs, DiceBear) draw Western cartoon avatars: small eyes, heads
on a plain collar, skin from very light to very dark. An anime sketch (big eyes with lashes and
highlights, bangs cut into spikes, a pointed chin, chibi proportions) looked like none of them,
so the model washed it in one tone. This builder draws such characters itself, from shapes and
rules in this file (no outside artwork: the pairs are the project's own, MIT like the code):

- three framings: ``bust`` (head and shoulders), ``half`` (to the waist, arms and hands) and
  ``chibi`` (a big head on a small full body with legs and shoes);
- faces with a pointed or rounded chin, ears, big eyes (white, iris, darker pupil, one or two
  highlights, a heavy upper lash line), brows, nose and mouth, sometimes blush;
- hair in front (a cap with 3–8 bangs, side locks, or spikes all round) and behind (short, bob,
  long, twin tails or a ponytail);
- clothes with a collar (round, V, sailor, shirt with a tie or a bow), sleeves on ``half`` and
  ``chibi``, a skirt or shorts on ``chibi``; sometimes an accessory in the hair (a clip, a flower,
  a bow or a headband);
- sometimes cel shadows (a darker tone of the part, no outline: under the bangs and the chin, on
  the hair's lower half, on one side of the clothes);
- lines 3–7 px at 512 in black or a dark brown; the whole figure scaled, moved, tilted and
  mirrored a little.

Colors are drawn per part from wide ranges so no part has one usual color: hair 35 % natural
(black, browns, blondes, silver, white), 65 % any hue; eyes any hue; clothes any hue or black /
gray / white; skin after the anime convention, mostly light (light 80 %, medium 12 %, dark 8 %).

Each character is drawn three times as SVG: in color, as line art (fills white, outlines black,
shadows and highlights left out) and as a part map (``PARTS`` of :mod:`training.datasets.faces`:
skin, hair, eyes (irises and pupils), clothes; lines, eye whites, mouths, blush and accessories
are 0). Pairs are written as the faces source writes them (2·size × size PNG, color left, line
art right, ``train/`` or ``val/`` by a hash of the name, ``parts/NAME.png``), and a build can be
resumed. Names are ``anime{seed}-{framing}_{index:05d}_anime``: the style (the last ``_`` word,
as for the faces sources) is ``anime``.
"""

from __future__ import annotations

import colorsys
import json
import logging
import math
import os
import random
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from training.datasets.faces import PART_COLORS, PARTS, make_face_pair
from training.datasets.openmoji import DatasetError, split_of

logger = logging.getLogger(__name__)

CANVAS = 512
FRAMINGS = ("bust", "half", "chibi")
BACK_HAIR = ("short", "bob", "long", "twintails", "ponytail")
FRONT_HAIR = ("bangs", "bangs", "spiky", "parted")
COLLARS = ("round", "v", "sailor", "tie", "bow")
ACCESSORIES = ("none", "none", "clip", "flower", "bow", "headband")
SKIN = {  # (share, hue degrees, saturation, value) ranges: the anime convention
    "light": (0.80, (16, 32), (0.08, 0.30), (0.90, 1.00)),
    "medium": (0.12, (16, 30), (0.28, 0.45), (0.72, 0.88)),
    "dark": (0.08, (14, 28), (0.35, 0.55), (0.38, 0.65)),
}
NATURAL_HAIR = (
    "#1a1a1f",
    "#2b2024",
    "#3b2a20",
    "#5a3a22",
    "#7b4a2a",
    "#a0522d",
    "#c8843c",
    "#e3c170",
    "#f2dc9b",
    "#c9c9d1",
    "#f4f4f8",
)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{min(255, max(0, round(c * 255))):02x}" for c in rgb)


def hsv(h: float, s: float, v: float) -> str:
    """A hex color from hue in degrees, saturation and value in [0, 1]."""
    return _hex(colorsys.hsv_to_rgb((h % 360) / 360, s, v))


def shade(color: str, factor: float = 0.8, hue_shift: float = -8.0) -> str:
    """A cel-shadow tone of ``color``: darker, a little more saturated, hue turned toward red."""
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return hsv(h * 360 + hue_shift, min(1.0, s * 1.15 + 0.05), v * factor)


@dataclass
class Palette:
    skin: str
    skin_tone: str
    hair: str
    eyes: str
    clothes: str
    clothes2: str
    accent: str
    line: str


def draw_palette(rng: random.Random) -> Palette:
    """Colors for one character (see the module docstring for the ranges)."""
    pick = rng.random()
    tone = "light" if pick < 0.80 else "medium" if pick < 0.92 else "dark"
    _, hr, sr, vr = SKIN[tone]
    skin = hsv(rng.uniform(*hr), rng.uniform(*sr), rng.uniform(*vr))
    if rng.random() < 0.35:
        hair = rng.choice(NATURAL_HAIR)
    else:
        hair = hsv(rng.uniform(0, 360), rng.uniform(0.45, 0.95), rng.uniform(0.35, 0.95))

    def cloth() -> str:
        if rng.random() < 0.12:
            return hsv(0, 0, rng.choice((0.12, 0.45, 0.75, 0.97)))
        return hsv(rng.uniform(0, 360), rng.uniform(0.3, 0.95), rng.uniform(0.3, 0.95))

    return Palette(
        skin=skin,
        skin_tone=tone,
        hair=hair,
        eyes=hsv(rng.uniform(0, 360), rng.uniform(0.4, 0.9), rng.uniform(0.4, 0.9)),
        clothes=cloth(),
        clothes2=cloth() if rng.random() < 0.7 else "#fafafa",
        accent=hsv(rng.uniform(0, 360), rng.uniform(0.5, 0.95), rng.uniform(0.6, 1.0)),
        line=rng.choice(("#000000", "#000000", "#1c1412", "#2a1d1a")),
    )


@dataclass
class Shape:
    """One SVG path: its fill, part (index into PARTS), and whether it has an outline."""

    d: str
    fill: str
    part: int
    outline: bool = True
    ink: bool = False  # solid line-art ink (lashes): black in the line art too


@dataclass
class Character:
    name: str
    framing: str
    palette: Palette
    shapes: list[Shape] = field(default_factory=list)
    transform: str = ""
    stroke: float = 4.0
    traits: dict[str, str] = field(default_factory=dict)


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def polygon(points: list[tuple[float, float]]) -> str:
    return f"M{_pts(points[:1])} L{_pts(points[1:])} Z"


def ellipse(cx: float, cy: float, rx: float, ry: float) -> str:
    return (
        f"M{cx - rx:.1f},{cy:.1f} A{rx:.1f},{ry:.1f} 0 1,0 {cx + rx:.1f},{cy:.1f} "
        f"A{rx:.1f},{ry:.1f} 0 1,0 {cx - rx:.1f},{cy:.1f} Z"
    )


def smooth(points: list[tuple[float, float]], closed: bool = True) -> str:
    """A Catmull-Rom curve through ``points`` as cubic Béziers."""
    n = len(points)
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    last = n if closed else n - 1
    for i in range(last):
        p0 = points[(i - 1) % n] if closed or i > 0 else points[i]
        p1, p2 = points[i], points[(i + 1) % n]
        p3 = points[(i + 2) % n] if closed or i + 2 < n else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        d.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}")
    return " ".join(d) + (" Z" if closed else "")


SKIN_P, HAIR_P, EYES_P, CLOTHES_P = (PARTS.index(p) for p in ("skin", "hair", "eyes", "clothes"))


def draw_character(index: int, seed: int) -> Character:
    """One character, the same for the same (index, seed) on every machine."""
    rng = random.Random(f"anime:{seed}:{index}")
    framing = rng.choice(FRAMINGS)
    pal = draw_palette(rng)
    back, front = rng.choice(BACK_HAIR), rng.choice(FRONT_HAIR)
    collar, accessory = rng.choice(COLLARS), rng.choice(ACCESSORIES)
    cel = rng.random() < 0.5
    char = Character(
        name=f"anime{seed}-{framing}_{index:05d}_anime",
        framing=framing,
        palette=pal,
        stroke=rng.uniform(3.0, 7.0),
        traits={"back_hair": back, "front_hair": front, "collar": collar, "accessory": accessory},
    )

    def add(d: str, fill: str, part: int, *, outline: bool = True, ink: bool = False) -> None:
        char.shapes.append(Shape(d, fill, part, outline, ink))

    # Head geometry: chibi heads are big, bust heads fill the frame, half figures are smaller.
    hw = {"bust": 105, "half": 72, "chibi": 92}[framing] * rng.uniform(0.9, 1.1)
    hh = hw * rng.uniform(1.05, 1.25)
    cx = 256.0
    cy = {"bust": 215, "half": 160, "chibi": 170}[framing] + rng.uniform(-10, 10)
    chin = cy + hh
    pointed = rng.random() < 0.6
    hair_dark = shade(pal.hair, 0.78)

    # Hair behind the head.
    hair_top = cy - hh * 1.12
    if back == "short":
        add(ellipse(cx, cy - hh * 0.15, hw * 1.12, hh * 1.0), pal.hair, HAIR_P)
    elif back == "bob":
        add(
            smooth(
                [
                    (cx - hw * 1.2, cy + hh * 0.7),
                    (cx - hw * 1.25, cy - hh * 0.3),
                    (cx, hair_top),
                    (cx + hw * 1.25, cy - hh * 0.3),
                    (cx + hw * 1.2, cy + hh * 0.7),
                    (cx, cy + hh * 0.8),
                ]
            ),
            pal.hair,
            HAIR_P,
        )
    elif back == "long":
        bottom = min(500.0, chin + hh * rng.uniform(0.8, 1.6))
        add(
            smooth(
                [
                    (cx - hw * 1.3, bottom),
                    (cx - hw * 1.3, cy - hh * 0.2),
                    (cx, hair_top),
                    (cx + hw * 1.3, cy - hh * 0.2),
                    (cx + hw * 1.3, bottom),
                    (cx, bottom - 10),
                ]
            ),
            pal.hair,
            HAIR_P,
        )
        if cel:
            add(
                polygon(
                    [
                        (cx - hw * 1.15, bottom - 30),
                        (cx - hw * 1.2, chin),
                        (cx + hw * 1.2, chin),
                        (cx + hw * 1.15, bottom - 30),
                    ]
                ),
                hair_dark,
                HAIR_P,
                outline=False,
            )
    elif back in ("twintails", "ponytail"):
        sides = (-1, 1) if back == "twintails" else (rng.choice((-1, 1)),)
        for side in sides:
            x0 = cx + side * hw * 1.0
            length = hh * rng.uniform(1.4, 2.4)
            add(
                smooth(
                    [
                        (x0, cy - hh * 0.7),
                        (x0 + side * hw * 0.75, cy - hh * 0.2),
                        (x0 + side * hw * 0.6, cy + length * 0.6),
                        (x0 + side * hw * 0.2, min(505.0, cy + length)),
                        (x0, cy + length * 0.4),
                    ]
                ),
                pal.hair,
                HAIR_P,
            )
            # the tie that holds the tail
            add(ellipse(x0 + side * hw * 0.1, cy - hh * 0.62, 9, 12), pal.accent, 0)
        add(ellipse(cx, cy - hh * 0.15, hw * 1.1, hh * 0.98), pal.hair, HAIR_P)

    # Body: clothes, then the neck, then the collar over the neck's foot.
    neck_w = hw * rng.uniform(0.24, 0.32)
    shoulder_y = chin + hh * (0.28 if framing != "chibi" else 0.12)
    if framing == "chibi":
        bw, bottom = hw * 0.75, chin + hh * 1.15
        leg_top = bottom - 6
        foot = min(500.0, leg_top + hh * 0.6)
        for side in (-1, 1):
            lx = cx + side * bw * 0.4
            add(
                polygon(
                    [
                        (lx - 11, leg_top),
                        (lx + 11, leg_top),
                        (lx + 10, foot - 10),
                        (lx - 10, foot - 10),
                    ]
                ),
                pal.skin,
                SKIN_P,
            )
            add(ellipse(lx + side * 4, foot - 8, 20, 11), shade(pal.accent, 0.55), 0)
        skirt = rng.random() < 0.5
        hem = bottom + (hh * 0.3 if skirt else hh * 0.18)
        add(
            polygon(
                [(cx - bw * 0.95, bottom - hh * 0.25), (cx + bw * 0.95, bottom - hh * 0.25)]
                + (
                    [(cx + bw * 1.3, hem), (cx - bw * 1.3, hem)]
                    if skirt
                    else [
                        (cx + bw, hem),
                        (cx + 4, hem),
                        (cx, bottom + 4),
                        (cx - 4, hem),
                        (cx - bw, hem),
                    ]
                )
            ),
            pal.clothes2 if rng.random() < 0.6 else pal.clothes,
            CLOTHES_P,
        )
        torso = [
            (cx - neck_w * 1.6, shoulder_y),
            (cx - bw, shoulder_y + hh * 0.18),
            (cx - bw * 0.95, bottom),
            (cx + bw * 0.95, bottom),
            (cx + bw, shoulder_y + hh * 0.18),
            (cx + neck_w * 1.6, shoulder_y),
        ]
    else:
        bw = hw * rng.uniform(1.25, 1.6)
        bottom = 520.0
        torso = [
            (cx - neck_w * 1.4, shoulder_y),
            (cx - bw * 0.85, shoulder_y + hh * 0.12),
            (cx - bw, shoulder_y + hh * 0.45),
            (cx - bw * (1.0 if framing == "bust" else 0.8), bottom),
            (cx + bw * (1.0 if framing == "bust" else 0.8), bottom),
            (cx + bw, shoulder_y + hh * 0.45),
            (cx + bw * 0.85, shoulder_y + hh * 0.12),
            (cx + neck_w * 1.4, shoulder_y),
        ]
    if framing in ("half", "chibi"):  # arms: a sleeve and a hand on each side
        arm = hh * (1.3 if framing == "half" else 0.8)
        for side in (-1, 1):
            sx = cx + side * bw * 0.88
            ex, ey = sx + side * bw * rng.uniform(0.1, 0.35), shoulder_y + arm
            add(ellipse(ex, ey + 8, 15 if framing == "half" else 13, 15), pal.skin, SKIN_P)
            add(
                polygon(
                    [
                        (sx - side * 8, shoulder_y + hh * 0.1),
                        (sx + side * 22, shoulder_y + hh * 0.15),
                        (ex + side * 18, ey),
                        (ex - side * 18, ey),
                    ]
                ),
                pal.clothes,
                CLOTHES_P,
            )
    add(
        smooth(torso, closed=True) if rng.random() < 0.5 else polygon(torso),
        pal.clothes,
        CLOTHES_P,
    )
    if cel:
        side = rng.choice((-1, 1))
        add(
            polygon(
                [
                    (cx + side * bw * 0.55, shoulder_y + hh * 0.2),
                    (cx + side * bw * 0.95, shoulder_y + hh * 0.45),
                    (cx + side * bw * 0.9, min(bottom, 510.0) - 2),
                    (cx + side * bw * 0.6, min(bottom, 510.0) - 2),
                ]
            ),
            shade(pal.clothes, 0.8),
            CLOTHES_P,
            outline=False,
        )
    neck_top = cy + hh * 0.6
    add(
        polygon(
            [
                (cx - neck_w, neck_top),
                (cx + neck_w, neck_top),
                (cx + neck_w, shoulder_y + 6),
                (cx - neck_w, shoulder_y + 6),
            ]
        ),
        pal.skin,
        SKIN_P,
    )
    if collar == "v":
        add(
            polygon(
                [
                    (cx - neck_w * 1.4, shoulder_y - 1),
                    (cx + neck_w * 1.4, shoulder_y - 1),
                    (cx, shoulder_y + hh * 0.35),
                ]
            ),
            pal.skin,
            SKIN_P,
        )
    elif collar == "round":
        add(
            smooth(
                [
                    (cx - neck_w * 1.6, shoulder_y - 2),
                    (cx, shoulder_y + hh * 0.12),
                    (cx + neck_w * 1.6, shoulder_y - 2),
                    (cx, shoulder_y + hh * 0.2),
                ]
            ),
            pal.clothes2,
            CLOTHES_P,
        )
    elif collar == "sailor":
        add(
            polygon(
                [
                    (cx - neck_w * 1.5, shoulder_y - 2),
                    (cx - bw * 0.8, shoulder_y + hh * 0.2),
                    (cx, shoulder_y + hh * 0.5),
                    (cx + bw * 0.8, shoulder_y + hh * 0.2),
                    (cx + neck_w * 1.5, shoulder_y - 2),
                    (cx, shoulder_y + hh * 0.3),
                ]
            ),
            pal.clothes2,
            CLOTHES_P,
        )
        add(
            polygon(
                [
                    (cx - 14, shoulder_y + hh * 0.42),
                    (cx + 14, shoulder_y + hh * 0.42),
                    (cx + 20, shoulder_y + hh * 0.62),
                    (cx, shoulder_y + hh * 0.5),
                    (cx - 20, shoulder_y + hh * 0.62),
                ]
            ),
            pal.accent,
            0,
        )
    elif collar == "tie":
        add(
            polygon(
                [
                    (cx - neck_w * 1.4, shoulder_y - 1),
                    (cx + neck_w * 1.4, shoulder_y - 1),
                    (cx, shoulder_y + hh * 0.22),
                ]
            ),
            "#fafafa",
            0,
        )
        add(
            polygon(
                [
                    (cx - 7, shoulder_y + 2),
                    (cx + 7, shoulder_y + 2),
                    (cx + 11, shoulder_y + hh * 0.55),
                    (cx, shoulder_y + hh * 0.62),
                    (cx - 11, shoulder_y + hh * 0.55),
                ]
            ),
            pal.accent,
            0,
        )
    else:  # bow
        by = shoulder_y + hh * 0.08
        add(polygon([(cx, by), (cx - 28, by - 14), (cx - 28, by + 14)]), pal.accent, 0)
        add(polygon([(cx, by), (cx + 28, by - 14), (cx + 28, by + 14)]), pal.accent, 0)
        add(ellipse(cx, by, 7, 7), pal.accent, 0)

    if cel:  # the shadow the chin casts on the neck
        add(
            polygon(
                [
                    (cx - neck_w + 2, neck_top + hh * 0.2),
                    (cx + neck_w - 2, neck_top + hh * 0.2),
                    (cx + neck_w - 2, neck_top + hh * 0.4),
                    (cx, neck_top + hh * 0.5),
                    (cx - neck_w + 2, neck_top + hh * 0.4),
                ]
            ),
            shade(pal.skin, 0.86),
            SKIN_P,
            outline=False,
        )
    # Ears, then the face.
    for side in (-1, 1):
        add(
            ellipse(cx + side * hw * 0.98, cy + hh * 0.12, hw * 0.13, hh * 0.17),
            pal.skin,
            SKIN_P,
        )
    jaw = 0.55 if pointed else 0.75
    face = [
        (cx - hw, cy - hh * 0.55),
        (cx - hw * 0.98, cy + hh * 0.3),
        (cx - hw * jaw, cy + hh * 0.82),
        (cx, chin),
        (cx + hw * jaw, cy + hh * 0.82),
        (cx + hw * 0.98, cy + hh * 0.3),
        (cx + hw, cy - hh * 0.55),
        (cx, cy - hh * 1.02),
    ]
    add(smooth(face), pal.skin, SKIN_P)

    # Eyes.
    ey = cy + hh * rng.uniform(0.12, 0.25)
    ex_off = hw * rng.uniform(0.38, 0.46)
    ew = hw * rng.uniform(0.2, 0.28)
    eh = ew * rng.uniform(1.05, 1.5)
    brow = ey - eh * rng.uniform(0.9, 1.3)
    if cel:  # the shade the bangs cast on the forehead (the bangs cover its top)
        add(
            polygon(
                [
                    (cx - hw * 0.85, brow + 2),
                    (cx + hw * 0.85, brow + 2),
                    (cx + hw * 0.8, brow + 12),
                    (cx - hw * 0.8, brow + 12),
                ]
            ),
            shade(pal.skin, 0.88),
            SKIN_P,
            outline=False,
        )
    iris_dark = shade(pal.eyes, 0.6, 0)
    for side in (-1, 1):
        ex = cx + side * ex_off
        add(ellipse(ex, ey, ew, eh), "#ffffff", 0)
        add(
            ellipse(ex + side * ew * 0.05, ey + eh * 0.1, ew * 0.78, eh * 0.85),
            pal.eyes,
            EYES_P,
        )
        add(
            ellipse(ex + side * ew * 0.05, ey + eh * 0.15, ew * 0.38, eh * 0.45),
            iris_dark,
            EYES_P,
            outline=False,
        )
        add(
            ellipse(ex - ew * 0.3, ey - eh * 0.25, ew * 0.22, ew * 0.22),
            "#ffffff",
            0,
            outline=False,
        )
        if rng.random() < 0.6:
            add(
                ellipse(ex + ew * 0.3, ey + eh * 0.4, ew * 0.1, ew * 0.1),
                "#ffffff",
                0,
                outline=False,
            )
        lash = [
            (ex - ew * 1.15, ey - eh * 0.35),
            (ex - ew * 0.3, ey - eh * 1.12),
            (ex + ew * 0.6, ey - eh * 1.05),
            (ex + ew * 1.2, ey - eh * 0.55),
            (ex + ew * 0.6, ey - eh * 0.85),
            (ex - ew * 0.3, ey - eh * 0.88),
        ]
        if side > 0:
            lash = [(2 * ex - x, y) for x, y in lash]
        add(polygon(lash), pal.line, 0, ink=True)
        by = ey - eh * rng.uniform(1.35, 1.6)
        add(
            f"M{ex - ew * 0.9:.1f},{by + 4:.1f} Q{ex:.1f},{by - 6:.1f} {ex + ew * 0.9:.1f},{by + 2:.1f}",
            "none",
            0,
        )
    # Nose, mouth, blush.
    ny = ey + (chin - ey) * 0.42
    add(f"M{cx + 2:.1f},{ny - 6:.1f} L{cx - 3:.1f},{ny + 4:.1f}", "none", 0)
    my = ey + (chin - ey) * 0.68
    mw = hw * rng.uniform(0.1, 0.2)
    if rng.random() < 0.35:
        add(smooth([(cx - mw, my - 3), (cx + mw, my - 3), (cx, my + mw * 0.9)]), "#b8383f", 0)
    else:
        add(
            f"M{cx - mw:.1f},{my - 2:.1f} Q{cx:.1f},{my + mw * 0.6:.1f} {cx + mw:.1f},{my - 2:.1f}",
            "none",
            0,
        )
    if rng.random() < 0.3:
        blush = hsv(rng.uniform(345, 360), 0.35, 1.0)
        for side in (-1, 1):
            add(
                ellipse(cx + side * ex_off * 1.15, ey + eh * 1.35, ew * 0.6, eh * 0.22),
                blush,
                0,
                outline=False,
            )

    # Hair in front: a cap over the skull and the bangs.
    top = cy - hh * 1.12
    if front == "spiky":
        spikes = rng.randint(7, 11)
        outline = []
        for k in range(spikes + 1):
            a = math.pi * (1.0 + k / spikes)
            r = 1.15 if k % 2 == 0 else rng.uniform(1.35, 1.6)
            outline.append((cx + math.cos(a) * hw * r, cy - hh * 0.2 + math.sin(a) * hh * r * 0.95))
        bangs = rng.randint(3, 5)
        for k in range(bangs, -1, -1):
            x = cx + hw * 1.05 * (2 * k / bangs - 1)
            outline.append((x, cy - hh * 0.35 if k in (0, bangs) else brow - rng.uniform(0, 25)))
            if k:
                outline.append((x - hw * 1.05 / bangs, cy - hh * 0.55))
        add(polygon(outline), pal.hair, HAIR_P)
    else:
        bangs = rng.randint(3, 8)
        edge: list[tuple[float, float]] = []
        left, right = cx - hw * 1.08, cx + hw * 1.08
        parted = front == "parted"
        for k in range(bangs + 1):
            x = right - (right - left) * k / bangs
            if k in (0, bangs):
                edge.append((x, cy + hh * rng.uniform(0.2, 0.6)))  # side locks down the cheeks
                continue
            depth = brow + rng.uniform(-15, 20)
            if parted and abs(x - cx) < hw * 0.35:
                depth = cy - hh * 0.6
            edge.append((x, depth))
            edge.append((x - (right - left) / bangs * 0.5, depth - rng.uniform(25, 45)))
        cap = [
            (left - 4, cy - hh * 0.1),
            (cx - hw * 0.7, top + hh * 0.1),
            (cx, top),
            (cx + hw * 0.7, top + hh * 0.1),
            (right + 4, cy - hh * 0.1),
        ]
        add(smooth(cap, closed=False) + " L" + _pts(edge) + " Z", pal.hair, HAIR_P)
    if cel:  # a shine on the hair
        add(
            ellipse(cx + hw * 0.35, top + hh * 0.32, hw * 0.25, hh * 0.07),
            hsv(0, 0, 1) if rng.random() < 0.3 else shade(pal.hair, 1.25, 0),
            HAIR_P,
            outline=False,
        )

    # An accessory in the hair.
    ax, ay = (
        cx + rng.choice((-1, 1)) * hw * rng.uniform(0.5, 0.8),
        top + hh * rng.uniform(0.25, 0.45),
    )
    if accessory == "clip":
        add(
            polygon([(ax - 22, ay - 5), (ax + 22, ay - 12), (ax + 24, ay - 2), (ax - 20, ay + 5)]),
            pal.accent,
            0,
        )
    elif accessory == "flower":
        for k in range(5):
            a = 2 * math.pi * k / 5
            add(ellipse(ax + 12 * math.cos(a), ay + 12 * math.sin(a), 9, 9), pal.accent, 0)
        add(ellipse(ax, ay, 6, 6), hsv(50, 0.8, 1.0), 0)
    elif accessory == "bow":
        add(polygon([(ax, ay), (ax - 26, ay - 16), (ax - 24, ay + 14)]), pal.accent, 0)
        add(polygon([(ax, ay), (ax + 26, ay - 16), (ax + 24, ay + 14)]), pal.accent, 0)
        add(ellipse(ax, ay, 7, 7), pal.accent, 0)
    elif accessory == "headband":
        add(
            f"M{cx - hw * 1.02:.1f},{cy - hh * 0.35:.1f} Q{cx:.1f},{top - hh * 0.25:.1f} {cx + hw * 1.02:.1f},{cy - hh * 0.35:.1f} L{cx + hw * 0.95:.1f},{cy - hh * 0.25:.1f} Q{cx:.1f},{top - hh * 0.1:.1f} {cx - hw * 0.95:.1f},{cy - hh * 0.25:.1f} Z",
            pal.accent,
            0,
        )

    scale = rng.uniform(0.85, 1.08)
    angle = rng.uniform(-6, 6)
    mirror = -1 if rng.random() < 0.5 else 1
    dx, dy = rng.uniform(-18, 18), rng.uniform(-12, 12)
    char.transform = (
        f"translate({256 + dx:.1f},{256 + dy:.1f}) rotate({angle:.1f}) "
        f"scale({mirror * scale:.3f},{scale:.3f}) translate(-256,-256)"
    )
    return char


def to_svg(char: Character, kind: str) -> str:
    """The character as an SVG: ``color``, ``line`` (line art) or ``parts`` (part ID colors)."""
    out = []
    stroke = f"{char.stroke:.1f}"
    line = char.palette.line
    for s in char.shapes:
        if kind == "color":
            edge = f' stroke="{line}" stroke-width="{stroke}"' if s.outline else ""
            fill = line if s.ink else s.fill
        elif kind == "line":
            if not s.outline:
                continue  # shadows, highlights and blush have no line
            edge = f' stroke="#000000" stroke-width="{stroke}"'
            fill = "#000000" if s.ink else ("none" if s.fill == "none" else "#ffffff")
        else:
            edge = f' stroke="#ffffff" stroke-width="{stroke}"' if s.outline else ""
            fill = "none" if s.fill == "none" else _hex(tuple(PART_COLORS[s.part] / 255))
            if s.ink:
                fill = "#ffffff"
        out.append(
            f'<path d="{s.d}" fill="{fill}"{edge} stroke-linejoin="round" stroke-linecap="round"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CANVAS} {CANVAS}" '
        f'width="{CANVAS}" height="{CANVAS}"><rect width="100%" height="100%" fill="#ffffff"/>'
        f'<g transform="{char.transform}">{"".join(out)}</g></svg>'
    )


def _write(index: int, seed: int, out: Path, size: int, tmp: Path) -> dict:
    char = draw_character(index, seed)
    target = out / split_of(char.name) / f"{char.name}.png"
    if not target.exists():
        files = []
        for kind in ("color", "line", "parts"):
            path = tmp / f"{char.name}.{kind}.svg"
            path.write_text(to_svg(char, kind))
            files.append(path)
        make_face_pair(files[0], files[1], target, size, files[2])
        for path in files:
            path.unlink()
    pal = char.palette
    return {
        "name": char.name,
        "framing": char.framing,
        "skin_tone": pal.skin_tone,
        "skin": pal.skin,
        "hair": pal.hair,
        "eyes": pal.eyes,
        "clothes": pal.clothes,
        **char.traits,
    }


def build_anime(
    out: Path, *, count: int, size: int = 512, seed: int = 0, workers: int | None = None
) -> dict[str, int]:
    """Draw ``count`` characters into ``out`` (existing pairs are kept: a build resumes).

    Returns the number of pairs per split, ``{"train": n, "val": m}``.
    """
    if count < 1:
        raise DatasetError(f"--count must be at least 1, not {count}")
    for split in ("train", "val"):
        (out / split).mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        ProcessPoolExecutor(workers or os.cpu_count()) as pool,
    ):
        futures = [pool.submit(_write, i, seed, out, size, Path(tmp)) for i in range(count)]
        chars = [f.result() for f in tqdm(futures, desc="Drawing characters", unit="pair")]
    counts = {"train": 0, "val": 0} | Counter(split_of(c["name"]) for c in chars)
    write_card(out, chars, size=size, seed=seed)
    logger.info("anime: %d train, %d val pairs in %s", counts["train"], counts["val"], out)
    return counts


def write_card(out: Path, chars: list[dict], *, size: int, seed: int) -> None:
    """``DATACARD.json`` and ``characters.json`` next to ``train/`` and ``val/``."""

    def share(key: str) -> dict[str, int]:
        return dict(sorted(Counter(c[key] for c in chars).items()))

    card = {
        "dataset": "anime",
        "layout": "PNG 2·size × size, color left, line art right; train/ and val/ by name hash",
        "size": size,
        "seed": seed,
        "count": len(chars),
        "licence": "MIT (drawn by training/datasets/anime.py from its own shapes; no outside art)",
        "framings": share("framing"),
        "skin_tones": share("skin_tone"),
        "traits": {k: share(k) for k in ("back_hair", "front_hair", "collar", "accessory")},
        "part_colors": {
            part: {"characters": len(chars), "distinct": len({c[part] for c in chars})}
            for part in ("hair", "eyes", "clothes")
        },
        "colors": (
            "hair: 35 % natural (black, browns, blondes, silver, white), 65 % any hue "
            "(HSV s 0.45–0.95, v 0.35–0.95); eyes: any hue (s 0.4–0.9, v 0.4–0.9); clothes: any "
            "hue (s 0.3–0.95, v 0.3–0.95) or black / gray / white (12 %); skin: light 80 % "
            "(v 0.9–1, s 0.08–0.3), medium 12 %, dark 8 %"
        ),
        "part_maps": {
            "folder": "parts/NAME.png, 256² grayscale",
            "index": list(PARTS),
            "rule": "skin, hair, eyes (iris and pupil), clothes; lines, eye whites, mouths, "
            "blush and accessories are 0",
        },
        "line_rule": "every outlined shape as a black outline on white; lashes solid ink "
        "(outlined when wider than size/128); cel shadows, highlights and blush have no line",
    }
    (out / "DATACARD.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    (out / "characters.json").write_text("[\n" + ",\n".join(json.dumps(c) for c in chars) + "\n]\n")
