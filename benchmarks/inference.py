"""Colorize engine speed and int8 quality on this machine, interleaved in one run (issue #9).

Usage: ``python benchmarks/inference.py [--reps 15] [--threads N] [--val DIR] [--openvino]``

Reported, all variants interleaved call by call (the host is noisy), as medians and ratios:

1. Per style (cel, soft): prepare / model / finish at 512², 1024², 2048², for the bundled
   weights and a full-size generator; the whole ``Colorizer`` call against the bare
   ``engine.predict``. Targets: full-size generator, whole 1024² call ≤ 1.3× the engine call;
   bundled weights, prepare + finish ≤ 30 ms at 1024², cel included.
2. int8 (phase-conv QDQ, :mod:`inference.quantize`, first two and last convolutions in fp32)
   against fp32 ONNX Runtime, model call only, both models; beside it int8 with every layer
   quantized (what keeping the ends in fp32 costs) and plain QDQ; OpenVINO fp32 and int8 too
   with ``--openvino`` (when installed). Target: int8 ≥ 1.8× fp32 for the full-size generator.
3. Raw-output PSNR of int8 against fp32 on each family of the shipped check set
   (``inference/assets/int8_check.npz``), beside fp32 against itself with a level of input
   noise (how touchy the model is: no quantization does better than that); with ``--val`` on
   that split's sketches too (Kaggle pairs). Target ≥ 35 dB on every family for the bundled
   model (below it, ``precision="int8"`` refuses and runs fp32).

The full-size generator (width 64, 54,425,859 parameters) has random weights: speed does not
depend on them (its int8 PSNR is reported, but only a trained model's figure is meaningful). Its
ONNX export and int8 copy are cached (``$PIXELPAINTER_CACHE/bench``), so later runs start fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SIZES = (512, 1024, 2048)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def cpu_timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall and this thread's CPU seconds: the CPU time is what the work costs, whatever else
    runs on a shared host (the post-processing is single-threaded)."""
    t, c = time.perf_counter(), time.thread_time()
    out = fn()
    return time.perf_counter() - t, time.thread_time() - c, out


def ms(values: list[float]) -> float:
    return float(np.median(values)) * 1000


def full_size_onnx(width: int) -> Path:
    """A random-initialised width-``width`` generator as ONNX, exported once and cached."""
    path = bench_cache() / f"generator-w{width}-seed0.onnx"
    if not path.exists():
        import keras

        from inference.generator import build_generator
        from inference.weights import export_onnx

        print(f"exporting a random width-{width} generator to {path} (once)...", flush=True)
        keras.utils.set_random_seed(0)
        export_onnx(build_generator(width), path)
    return path


def int8_copy(fp32: Path, kind: str) -> Path:
    """A cached int8 copy of ``fp32``: ``kind`` "int8" (the recipe: phase convs, ends fp32),
    "all" (every layer quantized) or "plain" (QDQ without the ConvTranspose rewrite)."""
    from inference.engine import fingerprint
    from inference.quantize import RECIPE, calibration_inputs, quantize

    path = bench_cache() / f"{kind}-{RECIPE}-{fingerprint(fp32)}.onnx"
    if not path.exists():
        print(f"quantizing {fp32.name} ({kind}, once)...", flush=True)
        quantize(fp32, path, calibration_inputs(), split=kind != "plain", fp32_ends=kind == "int8")
    return path


def bench_cache() -> Path:
    """``bench/`` in the engine's cache folder (``PIXELPAINTER_CACHE``, read by the settings)."""
    from inference.engine import cache_dir
    from inference.settings import InferenceSettings

    return cache_dir(InferenceSettings().pixelpainter_cache) / "bench"


class OpenVinoEngine:
    """OpenVINO on the CPU, latency hint: the same ``predict`` as the ONNX Runtime engine."""

    def __init__(self, onnx_path: Path, threads: int) -> None:
        import openvino as ov

        core = ov.Core()
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
        self._model = core.compile_model(core.read_model(str(onnx_path)), "CPU", config)
        self.name = "openvino"

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._model(np.ascontiguousarray(batch, np.float32))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--width", type=int, default=64, help="full-size generator width")
    parser.add_argument("--val", type=Path, help="val folder for int8 quality (pairs)")
    parser.add_argument("--val-count", type=int, default=64)
    parser.add_argument("--openvino", action="store_true", help="also measure OpenVINO")
    args = parser.parse_args()

    from inference.colorizer import Colorizer
    from inference.engine import OnnxEngine, onnx_for
    from inference.hints import with_hint_planes
    from inference.quantize import CHECK_SET, calibration_inputs, psnr, sketch_set

    onnx_paths = {"bundled": onnx_for(None, bench_cache()), "full": full_size_onnx(args.width)}
    int8_paths = {name: int8_copy(path, "int8") for name, path in onnx_paths.items()}
    all_paths = {name: int8_copy(path, "all") for name, path in onnx_paths.items()}
    plain_paths = {name: int8_copy(path, "plain") for name, path in onnx_paths.items()}
    colorizers = {
        name: Colorizer(OnnxEngine(path, args.threads)) for name, path in onnx_paths.items()
    }
    engines: dict[str, object] = {}
    for name in onnx_paths:
        engines[f"{name} fp32 ORT"] = colorizers[name].engine
        engines[f"{name} int8 ORT"] = OnnxEngine(int8_paths[name], args.threads)
        engines[f"{name} int8 all layers ORT"] = OnnxEngine(all_paths[name], args.threads)
        engines[f"{name} int8 plain QDQ ORT"] = OnnxEngine(plain_paths[name], args.threads)
    from samples import sketch as make_sketch

    sketches = {size: make_sketch((size, size), strokes=60, line=3) for size in SIZES}
    x1 = calibration_inputs(limit=1)

    # Warm every path, then interleave call by call.
    for colorizer in colorizers.values():
        for sketch in sketches.values():
            colorizer.colorize(sketch)
    for engine in engines.values():
        engine.predict(with_hint_planes(x1, engine.input_channels))
    parts: dict[tuple, list[float]] = {}

    def add(key: tuple, value: float) -> None:
        parts.setdefault(key, []).append(value)

    for _ in range(args.reps):
        for size, sketch in sketches.items():
            for name, colorizer in colorizers.items():
                t_prep, c_prep, prepared = cpu_timed(lambda c=colorizer, s=sketch: c.prepare(s))
                add((name, size, "prepare cpu"), c_prep)
                t_model, out = timed(
                    lambda c=colorizer, p=prepared: c.engine.predict(p.model_input[None])
                )
                add((name, size, "prepare"), t_prep)
                add((name, size, "model"), t_model)
                for style in ("cel", "soft"):
                    t_fin, c_fin, _ = cpu_timed(
                        lambda c=colorizer, p=prepared, o=out[0], s=style: c.finish(p, o, style=s)
                    )
                    add((name, size, "finish cpu", style), c_fin)
                    add((name, size, "finish", style), t_fin)
                    t_all, _ = timed(
                        lambda c=colorizer, sk=sketch, s=style: c.colorize(sk, style=s)
                    )
                    add((name, size, "colorize", style), t_all)
        for key, engine in engines.items():
            add(
                ("engine", key),
                timed(lambda e=engine: e.predict(with_hint_planes(x1, e.input_channels)))[0],
            )
    if args.openvino:
        # After the loop above: OpenVINO's worker threads stay busy a while after each call and
        # would slow whatever is timed next. Its own interleaved loop, ONNX Runtime alongside.
        for name in onnx_paths:
            engines[f"{name} fp32 OpenVINO"] = OpenVinoEngine(onnx_paths[name], args.threads)
            # OpenVINO has int8 deconvolution: the plain QDQ model (our phase split trips its
            # DepthToSpace transformation).
            engines[f"{name} int8 OpenVINO"] = OpenVinoEngine(plain_paths[name], args.threads)
        for engine in engines.values():
            engine.predict(with_hint_planes(x1, engine.input_channels))
        for _ in range(args.reps):
            for key, engine in engines.items():
                add(
                    ("openvino phase", key),
                    timed(lambda e=engine: e.predict(with_hint_planes(x1, e.input_channels)))[0],
                )

    print(f"\n{args.threads} threads, {args.reps} interleaved reps; medians in ms")
    print(
        "\n| weights | size | prepare | model | finish cel | finish soft | prep+fin cel | (CPU) | whole cel | whole soft | whole cel / model |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    summary: dict[str, float] = {}
    for name in colorizers:
        for size in SIZES:
            prep, model = ms(parts[(name, size, "prepare")]), ms(parts[(name, size, "model")])
            fin = {s: ms(parts[(name, size, "finish", s)]) for s in ("cel", "soft")}
            whole = {s: ms(parts[(name, size, "colorize", s)]) for s in ("cel", "soft")}
            cpu = ms(parts[(name, size, "prepare cpu")]) + ms(
                parts[(name, size, "finish cpu", "cel")]
            )
            print(
                f"| {name} | {size}² | {prep:.1f} | {model:.1f} | {fin['cel']:.1f} | {fin['soft']:.1f} "
                f"| {prep + fin['cel']:.1f} | {cpu:.1f} | {whole['cel']:.1f} | {whole['soft']:.1f} "
                f"| {whole['cel'] / model:.2f}× |"
            )
            summary[f"{name}_{size}_prepare_finish_cel_ms"] = prep + fin["cel"]
            summary[f"{name}_{size}_prepare_finish_cel_cpu_ms"] = cpu
            summary[f"{name}_{size}_whole_over_model_cel"] = whole["cel"] / model

    for phase, title in (("engine", "with the loop above"), ("openvino phase", "OpenVINO loop")):
        keys = [k for k in engines if (phase, k) in parts]
        if not keys:
            continue
        print(f"\n| 256² model call (batch 1), {title} | p50 ms | vs fp32 ORT |")
        print("|---|---|---|")
        for key in keys:
            value = ms(parts[(phase, key)])
            base = ms(parts[(phase, f"{key.split()[0]} fp32 ORT")])
            print(f"| {key} | {value:.1f} | {base / value:.2f}× |")
            summary[f"{phase} {key} ms"] = value
    summary["full_int8_speedup"] = ms(parts[("engine", "full fp32 ORT")]) / ms(
        parts[("engine", "full int8 ORT")]
    )

    check, families = sketch_set(CHECK_SET)
    noisy = np.clip(check + np.random.default_rng(0).normal(0, 1 / 127.5, check.shape), -1, 1)
    print("\nraw output PSNR (dB, mean per check-set family) against fp32 ONNX Runtime:")
    print("\n| weights | variant | " + " | ".join(dict.fromkeys(families)) + " |")
    print("|---|---|" + "---|" * len(set(families)))
    for name in onnx_paths:
        fp32 = engines[f"{name} fp32 ORT"]
        ref = np.concatenate(
            [
                fp32.predict(with_hint_planes(check[i : i + 1], fp32.input_channels))
                for i in range(len(check))
            ]
        )
        variants = {
            "fp32, input ± 1 level of noise": fp32,
            "int8 (first 2 + last conv fp32)": engines[f"{name} int8 ORT"],
            "int8, all layers": engines[f"{name} int8 all layers ORT"],
        }
        for variant, engine in variants.items():
            x = noisy.astype(np.float32) if variant.startswith("fp32") else check
            out = np.concatenate(
                [
                    engine.predict(with_hint_planes(x[i : i + 1], engine.input_channels))
                    for i in range(len(x))
                ]
            )
            scores = {
                f: float(np.mean([psnr(ref[i], out[i]) for i in np.flatnonzero(families == f)]))
                for f in dict.fromkeys(families)
            }
            print(
                f"| {name} | {variant} | " + " | ".join(f"{v:.1f}" for v in scores.values()) + " |"
            )
            if variant.startswith("int8 ("):
                summary[f"{name}_int8_check_min_db"] = min(scores.values())

    if args.val:
        from training.int8_calibration import sketch_inputs

        val = sketch_inputs([args.val], limit=args.val_count, seed=1)
        print(f"\nraw output, int8 against fp32 ONNX Runtime, {len(val)} sketches of {args.val}:")
        for name in onnx_paths:
            fp32 = engines[f"{name} fp32 ORT"]
            int8 = engines[f"{name} int8 ORT"]
            a = np.concatenate(
                [
                    fp32.predict(with_hint_planes(val[i : i + 1], fp32.input_channels))
                    for i in range(len(val))
                ]
            )
            b = np.concatenate(
                [
                    int8.predict(with_hint_planes(val[i : i + 1], int8.input_channels))
                    for i in range(len(val))
                ]
            )
            worst = min(psnr(a[i], b[i]) for i in range(len(val)))
            print(
                f"  {name}: PSNR {psnr(a, b):.1f} dB (worst image {worst:.1f} dB), max |diff| {np.abs(a - b).max():.3f}"
            )
            summary[f"{name}_int8_psnr_db"] = psnr(a, b)

    targets = {
        "full-size whole 1024² cel call ≤ 1.3× engine call": summary[
            "full_1024_whole_over_model_cel"
        ]
        <= 1.3,
        "bundled prepare + finish (cel) ≤ 30 ms at 1024²": summary[
            "bundled_1024_prepare_finish_cel_ms"
        ]
        <= 30,
        "full-size int8 ≥ 1.8× fp32 ORT": summary["full_int8_speedup"] >= 1.8,
    }
    targets["bundled int8 vs fp32 ≥ 35 dB on every check-set family"] = (
        summary["bundled_int8_check_min_db"] >= 35
    )
    if "bundled_int8_psnr_db" in summary:
        targets["bundled int8 vs fp32 ≥ 35 dB on --val"] = summary["bundled_int8_psnr_db"] >= 35
    print()
    for target, met in targets.items():
        print(f"{'met ' if met else 'MISSED'} {target}")
    print(json.dumps({k: round(v, 3) for k, v in summary.items()}))


if __name__ == "__main__":
    main()
