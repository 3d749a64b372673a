"""``pixelpainter-train``: train the generator (default), export a checkpoint's generator,
average generators in weight space (model soups, WiSE-FT: :mod:`training.average`), or refit a
color-head generator's head on its frozen features (:mod:`training.refit_head`)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import logging
import os
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.config import TrainConfig
from training.splits import DataError

SUBCOMMANDS = ("train", "export", "average", "refit-head")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help"):
        argv.insert(0, "train")  # `pixelpainter-train --data ...` trains
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("absl").setLevel(logging.WARNING)
    mix = getattr(args, "rebalance_mix", None)
    if mix is not None and not 0.0 < mix <= 1.0:
        print(
            f"pixelpainter-train: --rebalance-mix must lie in (0, 1], not {args.rebalance_mix}",
            file=sys.stderr,
        )
        return 2
    if hasattr(args, "backend"):
        try:
            args.backend = select_backend(args.backend)
        except ValueError as err:
            print(f"pixelpainter-train: {err}", file=sys.stderr)
            return 2
    if getattr(args, "threads", None):
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        if args.backend == "torch":
            import torch

            torch.set_num_threads(args.threads)
        else:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, args.threads))
    try:
        return args.run(args)
    except DataError as err:
        print(f"pixelpainter-train: bad data: {err}", file=sys.stderr)
        return 2


BACKENDS = ("tensorflow", "torch")


def select_backend(choice: str) -> str:
    """The Keras backend a training run uses (``auto``: TensorFlow where installed, else PyTorch),
    set in ``KERAS_BACKEND`` before Keras is imported; a choice that cannot run is refused."""
    if choice == "auto":
        choice = "tensorflow" if importlib.util.find_spec("tensorflow") else "torch"
    if choice not in BACKENDS:
        raise ValueError(f"--backend must be auto, tensorflow or torch, not {choice!r}")
    if importlib.util.find_spec(choice) is None:
        raise ValueError(f"--backend {choice}: {choice} is not installed")
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != choice:
            raise ValueError(
                f"--backend {choice}: Keras is already loaded on {keras.backend.backend()} in "
                "this process (it picks its backend once)"
            )
    os.environ["KERAS_BACKEND"] = choice
    return choice


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixelpainter-train", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train (the default command)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_config_flags(train)
    train.add_argument("--threads", type=int, help="CPU threads for the backend")
    train.add_argument(
        "--workers", type=int, help="--backend torch: data loader processes (default: ≤ 8 CPUs)"
    )
    train.add_argument("--baselines", action="store_true", help="also score the two baselines")
    train.set_defaults(run=_train)

    export = sub.add_parser("export", help="export the generator of a checkpoint")
    export.add_argument("checkpoint", type=Path, help="checkpoint folder or prefix")
    export.add_argument("out", type=Path, help="output folder")
    export.add_argument("--name", default="generator")
    export.add_argument("--data", type=Path, help="dataset: add val metrics and baselines")
    export.add_argument("--card-extra", type=Path, help="JSON merged into the model card")
    export.add_argument(
        "--calibrate-steps",
        type=int,
        default=100,
        help="with --data: batches that re-estimate BatchNorm statistics first (0: keep them)",
    )
    export.set_defaults(run=_export)

    average = sub.add_parser(
        "average",
        help="average generators from one start in weight space (a soup; WiSE-FT with the start)",
    )
    average.add_argument("out", type=Path, help="output folder")
    average.add_argument(
        "sources",
        nargs="+",
        metavar="WEIGHTS[:SHARE]",
        help="weights, checkpoints or .keras files, each with an optional share (default 1; "
        "shares are normalised); the output has the first one's architecture",
    )
    average.add_argument("--name", default="generator")
    average.add_argument(
        "--temperature",
        type=float,
        help="color-head models: the annealed mean's T, baked into the --onnx file",
    )
    average.add_argument(
        "--saturation",
        type=float,
        help="color-head models: scale the annealed mean's a, b by up to this factor (>= 1), "
        "keeping the hue; baked into the --onnx file",
    )
    average.add_argument(
        "--chroma-target",
        type=float,
        help="with --saturation: scale each picture only as far as lifts its figure's mean "
        "chroma (Lab) to this",
    )
    average.add_argument("--onnx", action="store_true", help="also write NAME.onnx")
    average.set_defaults(run=_average)

    refit = sub.add_parser(
        "refit-head",
        help="refit a color-head generator's head on its frozen features (the rest unchanged)",
    )
    refit.add_argument("out", type=Path, help="output folder")
    refit.add_argument("weights", type=Path, help="a color-head generator (weights or .keras)")
    refit.add_argument("--data", type=Path, required=True, help="dataset (train/ and val/)")
    refit.add_argument("--name", default="generator")
    refit.add_argument("--every", type=int, default=1, help="use every N-th pair of each split")
    refit.add_argument("--pixels", type=int, default=192, help="pixels sampled a pair")
    refit.add_argument(
        "--rebalance-mix",
        type=float,
        help="weight rare colors up as in training (λ in (0, 1]); default: no weighting, the "
        "plain posterior",
    )
    refit.add_argument("--epochs", type=int, default=6)
    refit.add_argument("--learning-rate", type=float, default=3e-3, help="Adam's step size")
    refit.add_argument("--seed", type=int, default=0)
    refit.add_argument("--threads", type=int, help="CPU threads for the backend")
    refit.add_argument("--backend", default="auto", help="auto, tensorflow or torch")
    refit.set_defaults(run=_refit_head)
    return parser


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`TrainConfig` field, with its default and help from the dataclass."""
    hints = typing.get_type_hints(TrainConfig)
    for item in dataclasses.fields(TrainConfig):
        help_text = item.metadata.get("help")
        if help_text is None:
            continue
        flag = item.metadata.get("flag") or "--" + item.name.replace("_", "-")
        required = item.default is dataclasses.MISSING
        kind = hints[item.name]
        if kind is bool:
            parser.add_argument(
                flag,
                dest=item.name,
                action=argparse.BooleanOptionalAction,
                default=item.default,
                help=help_text,
            )
            continue
        convert = Path if Path in typing.get_args(kind) or kind is Path else kind
        parser.add_argument(
            flag,
            dest=item.name,
            type=convert,
            required=required,
            default=None if required else item.default,
            help=help_text,
        )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    names = [f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("help")]
    return TrainConfig(**{name: getattr(args, name) for name in names})


def _train(args: argparse.Namespace) -> int:
    from training.export import config_card, export, margins

    config = config_from_args(args)
    if args.backend == "torch":
        unsupported = [
            flag for flag, on in (("--xla", config.xla), ("--no-cache", not config.cache)) if on
        ]
        if unsupported:
            print(
                f"pixelpainter-train: {', '.join(unsupported)}: TensorFlow only (the PyTorch "
                "trainer always decodes the pairs once into memory and runs eagerly)",
                file=sys.stderr,
            )
            return 2
        if args.baselines:
            print(
                "pixelpainter-train: --baselines needs TensorFlow: score them with "
                "`pixelpainter-train export CHECKPOINT OUT --data DATA` where it is installed",
                file=sys.stderr,
            )
            return 2
        from training.torch_trainer import TorchTrainer

        trainer: object = TorchTrainer(config, workers=args.workers)
    else:
        from training.trainer import Trainer

        trainer = Trainer(config)
    result = trainer.fit()  # type: ignore[attr-defined]
    card = config_card(config, trainer.train_split, trainer.val_split)
    card.update({"epochs_trained": result["epoch"], "steps": result["step"], "val": result["val"]})
    if args.baselines:
        card["baselines"] = trainer.baselines()
        card["margins"] = margins(result["val"], card["baselines"])  # type: ignore[arg-type]
    paths = export(trainer.generator, args.out / "export", card)
    print(
        f"trained to epoch {result['epoch']} (step {result['step']}); exported {paths['weights']}"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from inference.errors import WeightsError
    from inference.weights import detect_format, load_generator
    from training.export import export

    try:
        generator = load_generator(args.checkpoint)
        fmt, prefix = detect_format(args.checkpoint)
    except WeightsError as err:
        print(f"pixelpainter-train: {err}", file=sys.stderr)
        return 2
    card: dict[str, object] = {"source_checkpoint": str(prefix)}
    card.update(_checkpoint_progress(fmt, prefix))
    if args.data:
        card.update(_scores(generator, args))
    if args.card_extra:
        card.update(json.loads(args.card_extra.read_text()))
    paths = export(generator, args.out, card, args.name)
    print(f"exported {paths['weights']}, {paths['keras']} and {paths['card']}")
    return 0


def _average(args: argparse.Namespace) -> int:
    from inference.color_head import has_color_head, set_readout
    from inference.errors import WeightsError
    from inference.weights import export_onnx, load_generator
    from training.average import AverageError, average, parse_source
    from training.export import export

    readout = {
        key: value
        for key, value in (
            ("temperature", args.temperature),
            ("saturation", args.saturation),
            ("chroma_target", args.chroma_target),
        )
        if value is not None
    }
    problem = _readout_problem(readout)
    if problem:
        print(f"pixelpainter-train: {problem}", file=sys.stderr)
        return 2
    try:
        sources = [parse_source(spec) for spec in args.sources]
        models = [load_generator(path) for path, _ in sources]
        generator = average(models, [w for _, w in sources], [str(p) for p, _ in sources])
    except (AverageError, WeightsError) as err:
        print(f"pixelpainter-train: {err}", file=sys.stderr)
        return 2
    if readout:
        if not has_color_head(generator):
            flags = ", ".join("--" + key.replace("_", "-") for key in readout)
            print(f"pixelpainter-train: {flags} needs a color-head model", file=sys.stderr)
            return 2
        set_readout(generator, readout)
    total = sum(w for _, w in sources)
    card: dict[str, object] = {
        "averaged_from": [{"weights": str(p), "share": w / total} for p, w in sources],
        "method": "weight-space average (training.average): a model soup, or WiSE-FT with the "
        "start",
    }
    card.update(readout)
    paths = export(generator, args.out, card, args.name)
    written = [paths["weights"], paths["keras"], paths["card"]]
    if args.onnx:
        written.append(export_onnx(generator, args.out / f"{args.name}.onnx"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _refit_head(args: argparse.Namespace) -> int:
    from inference.color_head import has_color_head
    from inference.errors import WeightsError
    from inference.weights import load_generator
    from training.export import export
    from training.refit_head import refit_head
    from training.splits import scan_dataset

    for flag, value in (("--every", args.every), ("--pixels", args.pixels)):
        if value < 1:
            print(f"pixelpainter-train: {flag} must be 1 or more", file=sys.stderr)
            return 2
    if args.epochs < 1:
        print("pixelpainter-train: --epochs must be 1 or more", file=sys.stderr)
        return 2
    if not args.learning_rate > 0:
        print("pixelpainter-train: --learning-rate must be above 0", file=sys.stderr)
        return 2
    train, val = scan_dataset(args.data)
    try:
        generator = load_generator(args.weights)
    except WeightsError as err:
        print(f"pixelpainter-train: {err}", file=sys.stderr)
        return 2
    if not has_color_head(generator):
        print(
            f"pixelpainter-train: {args.weights} has no color head to refit (train one with "
            "--color-head)",
            file=sys.stderr,
        )
        return 2
    report = refit_head(
        generator,
        train,
        val,
        every=args.every,
        pixels=args.pixels,
        rebalance_mix=args.rebalance_mix,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    card = {
        "head_refit": {
            "from": str(args.weights),
            "data": str(args.data),
            "every": args.every,
            "pixels_a_pair": args.pixels,
            "rebalance_mix": args.rebalance_mix,
            "epochs": args.epochs,
            "learning_rate": args.learning_rate,
            "seed": args.seed,
            **report,
        },
        "method": "the color head refitted on the frozen network's features (training.refit_head)",
    }
    paths = export(generator, args.out, card, args.name)
    print(
        f"val cross-entropy {report['val_cross_entropy_before']:.3f} → "
        f"{report['val_cross_entropy_after']:.3f} nats; wrote "
        + ", ".join(str(paths[k]) for k in ("weights", "keras", "card"))
    )
    return 0


def _readout_problem(readout: dict[str, float]) -> str | None:
    """Why a color-head read-out (``average``'s --temperature, --saturation, --chroma-target)
    cannot be used, or None."""
    if "temperature" in readout and not readout["temperature"] > 0:
        return "--temperature must be above 0"
    if "saturation" in readout and not readout["saturation"] >= 1:
        return "--saturation must be 1 or more (it scales colors up, keeping their hue)"
    if "chroma_target" in readout:
        if not readout["chroma_target"] > 0:
            return "--chroma-target must be above 0"
        if readout.get("saturation", 1.0) <= 1:
            return "--chroma-target needs a --saturation above 1 (the most a picture is scaled)"
    return None


def _checkpoint_progress(fmt: str, prefix: Path) -> dict[str, int]:
    """Epochs and steps trained, from a TensorFlow checkpoint or a PyTorch trainer's checkpoint
    folder (``state.json`` beside its weights); nothing for other files."""
    from training.torch_trainer import STATE

    state = prefix.parent / STATE if prefix.is_file() else prefix / STATE
    if state.exists():
        saved = json.loads(state.read_text())
        return {"epochs_trained": int(saved["epoch"]), "steps": int(saved["step"])}
    if fmt != "tf-checkpoint":
        return {}
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    progress = {}
    for name in ("epoch", "step"):
        key = f"{name}/.ATTRIBUTES/VARIABLE_VALUE"
        if reader.has_tensor(key):
            progress["epochs_trained" if name == "epoch" else "steps"] = int(reader.get_tensor(key))
    return progress


def _scores(generator: Any, args: argparse.Namespace) -> dict[str, object]:
    """Val metrics (raw and through the Colorizer) and baselines, after re-estimating the
    BatchNorm statistics on the training split (TensorFlow)."""
    from inference.generator import input_channels_of
    from inference.hints import with_hint_planes
    from training.calibration import recalibrate_on_split
    from training.data import make_dataset, scan_dataset
    from training.export import margins
    from training.metrics import colorizer_predict, evaluate
    from training.trainer import score_baselines

    card: dict[str, object] = {}
    train, val = scan_dataset(args.data)
    used = recalibrate_on_split(generator, train, steps=args.calibrate_steps)
    if used:
        card["batchnorm_recalibrated_on"] = f"{used} batches of 16 training sketches"
    val_ds = make_dataset(val, 32, shuffle=False, cache=False)
    channels = input_channels_of(generator)
    # training=False: the mode inference runs in, so the numbers are what users get (a hint
    # model without hints: empty hint planes).
    card["val"] = evaluate(
        lambda x: generator(with_hint_planes(x.numpy(), channels), training=False), val_ds
    )
    # What a person gets: the Colorizer puts the sketch's own lines over the color layer.
    card["val_colorizer_output"] = evaluate(colorizer_predict(generator), val_ds)
    card["data"] = {"path": str(args.data), "train_pairs": len(train), "val_pairs": len(val)}
    card["baselines"] = score_baselines(train, val)
    card["margins"] = margins(card["val"], card["baselines"])  # type: ignore[arg-type]
    card["margins_colorizer_output"] = margins(
        card["val_colorizer_output"],  # type: ignore[arg-type]
        card["baselines"],  # type: ignore[arg-type]
    )
    return card
