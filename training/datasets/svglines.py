"""Line art from a colored SVG: keep what is drawn dark, drop what is painted light.

A cartoon SVG draws its outlines either as dark strokes or as dark filled shapes (an ink ring
around a face, a black pupil). Line art keeps both, black, and drops every light fill and light
stroke. Solid dark areas (black hair, a dark coat) would become black blobs a person never draws,
so after rendering they keep only their outline (:func:`hollow_solid_areas`).

The threshold is per source: a dark skin tone or a navy coat must stay a color, not become ink.
``dark_below`` is the luminance (0–1) under which a paint counts as ink.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "use"}
PAINT_PROPS = ("fill", "stroke", "fill-opacity", "stroke-opacity", "opacity", "stroke-width")
NAMED = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "navy": (0, 0, 128),
    "maroon": (128, 0, 0),
    "purple": (128, 0, 128),
    "brown": (165, 42, 42),
    "orange": (255, 165, 0),
    "pink": (255, 192, 203),
    "silver": (192, 192, 192),
    "darkgray": (169, 169, 169),
    "dimgray": (105, 105, 105),
}

for _prefix, _uri in (("", SVG_NS), ("xlink", XLINK_NS)):
    ET.register_namespace(_prefix, _uri)


def parse_color(value: str | None) -> tuple[int, int, int] | None:
    """``#rgb``, ``#rrggbb``, ``rgb(r,g,b)`` or a common name → RGB; None for none/unknown."""
    if value is None:
        return None
    value = value.strip().lower()
    if value.startswith("#"):
        hexa = value[1:]
        if len(hexa) == 3:
            hexa = "".join(c * 2 for c in hexa)
        if len(hexa) >= 6 and re.fullmatch(r"[0-9a-f]{6}", hexa[:6]):
            return int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16)
        return None
    match = re.fullmatch(r"rgb\(\s*(\d+)%?\s*,\s*(\d+)%?\s*,\s*(\d+)%?\s*\)", value)
    if match:
        return tuple(min(255, int(v)) for v in match.groups())  # type: ignore[return-value]
    return NAMED.get(value)


def luminance(rgb: tuple[int, int, int]) -> float:
    """Rec. 601 luma in [0, 1]."""
    r, g, b = rgb
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255.0


def _num(value: object, default: float = 1.0) -> float:
    """An SVG number or percentage; ``default`` for anything unreadable."""
    text = str(value).strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return default


def _style(element: ET.Element) -> dict[str, str]:
    props = {k: element.attrib[k] for k in PAINT_PROPS if k in element.attrib}
    for item in element.attrib.get("style", "").split(";"):
        if ":" in item:
            key, value = item.split(":", 1)
            props[key.strip()] = value.strip()
    return props


def _gradient_colors(root: ET.Element) -> dict[str, tuple[int, int, int]]:
    """Mean stop color of each gradient by id (following ``xlink:href`` one level)."""
    stops: dict[str, list[tuple[int, int, int]]] = {}
    links: dict[str, str] = {}
    for grad in root.iter():
        tag = grad.tag.rsplit("}", 1)[-1]
        if tag not in ("linearGradient", "radialGradient") or "id" not in grad.attrib:
            continue
        colors = []
        for stop in grad:
            color = parse_color(_style(stop).get("stop-color") or stop.attrib.get("stop-color"))
            if color is not None:
                colors.append(color)
        stops[grad.attrib["id"]] = colors
        href = grad.attrib.get(f"{{{XLINK_NS}}}href") or grad.attrib.get("href")
        if href:
            links[grad.attrib["id"]] = href.lstrip("#")
    means = {}
    for gid, colors in stops.items():
        colors = colors or stops.get(links.get(gid, ""), [])
        if colors:
            means[gid] = tuple(int(np.mean([c[i] for c in colors])) for i in range(3))
    return means  # type: ignore[return-value]


def _paint(value: str | None, gradients: dict[str, tuple[int, int, int]]):
    if value is None or value in ("none", "transparent"):
        return None
    match = re.match(r"url\(\s*#([^)]+)\)", value)
    if match:
        return gradients.get(match.group(1))
    return parse_color(value)


def line_svg(svg_text: str, *, dark_below: float = 0.3, min_opacity: float = 0.5) -> str:
    """The line-art version of an SVG document (fills off, ink black, light paint removed)."""
    root = ET.fromstring(svg_text)
    gradients = _gradient_colors(root)

    def visit(element: ET.Element, inherited: dict[str, str]) -> None:
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("defs", "metadata", "clipPath", "mask", "pattern", "symbol", "style"):
            return
        own = _style(element)
        props = {**inherited, **own}
        # Opacity is not inherited but compounds: a 30 % group makes all its shapes faint.
        props["opacity"] = str(_num(inherited.get("opacity", 1)) * _num(own.get("opacity", 1)))
        if tag in SHAPES and tag != "use":
            fill = _paint(props.get("fill", "black"), gradients)  # SVG's default fill is black
            stroke = _paint(props.get("stroke"), gradients)
            opacity = _num(props.get("opacity", 1))
            fill_alpha = opacity * _num(props.get("fill-opacity", 1))
            stroke_alpha = opacity * _num(props.get("stroke-opacity", 1))

            # Light paint becomes white, not transparent: a face drawn over a black silhouette
            # must still hide the silhouette, leaving only the visible rim as the outline.
            def _line_paint(color, alpha):
                if color is None or alpha < min_opacity:
                    return "none"
                return "#000000" if luminance(color) < dark_below else "#ffffff"

            element.attrib.pop("style", None)
            for key in PAINT_PROPS:
                if key != "stroke-width":
                    element.attrib.pop(key, None)
            element.set("fill", _line_paint(fill, fill_alpha))
            element.set("stroke", _line_paint(stroke, stroke_alpha))
            if "stroke-width" in props:
                element.set("stroke-width", props["stroke-width"])
            if tag == "text":
                element.set("fill", "none")
                element.set("stroke", "none")
            return
        for child in list(element):
            visit(child, props)
        if tag != "svg":  # a group's own paint has been pushed down to its shapes
            element.attrib.pop("style", None)
            for key in PAINT_PROPS:
                element.attrib.pop(key, None)

    visit(root, {})
    return ET.tostring(root, encoding="unicode")


def hollow_solid_areas(ink: np.ndarray, keep: int) -> np.ndarray:
    """Solid ink areas keep only an outline ``keep`` px wide; thin lines stay as they are.

    ``ink``: bool (H, W), True where the line render is dark. Returns the same shape.
    """
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * keep + 1, 2 * keep + 1))
    core = cv2.erode(ink.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return ink & ~core.astype(bool)
