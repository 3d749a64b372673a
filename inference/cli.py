"""``pixelpainter``: colorize sketches from the command line, inspect and export weights.

Exit codes: 0 done; 1 some sketches could not be colorized (or none were found); 2 a bad flag,
path, setting or weights file. Every failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pydantic import ValidationError

from inference import __version__
from inference.colorizer import DEFAULT_MAX_SIDE, STYLES, Colorized, Colorizer, Prepared
from inference.engine import PRECISIONS
from inference.errors import HintsError, SketchError, SketchProblem, WeightsError
from inference.hints import Hint, parse_hints
from inference.images import IMAGE_SUFFIXES, SKETCH_FORMATS
from inference.settings import InferenceSettings, describe_settings_error, load_colorizer

EXIT_OK, EXIT_INPUT_FAILED, EXIT_USAGE = 0, 1, 2
# `-o NAME.<one of these>` with a single sketch writes that file instead of a folder.
OUTPUT_FILE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
MIN_SIDE = 16  # the Colorizer's smallest output side
NOTES_SHOWN = 5  # rename notes printed one by one; the rest are counted


class CliError(Exception):
    """A bad flag, path or setting: ``str(err)`` is the one line shown before exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage text is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(
    argv: Sequence[str] | None = None,
    *,
    commands: Sequence[Callable[[argparse._SubParsersAction], None]] = (),
) -> int:
    """Run the ``pixelpainter`` command line; returns the exit code.

    ``commands`` adds front ends' subcommands (``pixelpainter_cli`` adds ``serve``); each adder
    registers a subparser whose ``run(args)`` returns the exit code, raising :class:`CliError`
    for one line and exit code 2.
    """
    parser = build_parser(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version and usage errors
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (CliError, WeightsError) as err:
        print(f"pixelpainter: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("pixelpainter: interrupted", file=sys.stderr)
        return 130


def build_parser(
    commands: Sequence[Callable[[argparse._SubParsersAction], None]] = (),
) -> argparse.ArgumentParser:
    """The parser: one subparser per command, each added by its own ``_add_*`` function, then
    those of ``commands``."""
    parser = _Parser(prog="pixelpainter", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for add in (_add_colorize, _add_info, _add_export_onnx, *commands):
        add(sub)
    return parser


# --- colorize -----------------------------------------------------------------------------------


def _add_colorize(sub: argparse._SubParsersAction) -> None:
    colorize = sub.add_parser(
        "colorize",
        help="colorize sketches (files or folders)",
        description=(
            "Colorize sketches. A folder is searched recursively and its subfolders are mirrored "
            "under OUT. Outputs never overwrite an input or each other: a name already taken "
            "gets -2, -3, ... (each rename is listed). One sketch and -o NAME.png writes NAME.png."
        ),
    )
    colorize.add_argument("inputs", nargs="+", type=Path, metavar="SKETCH_OR_DIR")
    colorize.add_argument(
        "-o",
        "--out",
        type=Path,
        required=True,
        metavar="OUT",
        help="output folder, or NAME.png (.jpg, .webp) for a single sketch",
    )
    colorize.add_argument(
        "--weights",
        type=Path,
        help="generator weights (default: $GENERATOR_WEIGHTS, else the bundled model)",
    )
    colorize.add_argument("--raw", action="store_true", help="also save the raw 256² model output")
    colorize.add_argument(
        "--layer", action="store_true", help="also save the color layer (colors without lines)"
    )
    colorize.add_argument(
        "--max-side",
        type=int_at_least(MIN_SIDE),
        default=DEFAULT_MAX_SIDE,
        metavar="PX",
        help="cap the long side of the output; larger sketches are downscaled (default: %(default)s)",
    )
    colorize.add_argument(
        "--batch",
        type=int_at_least(1),
        default=4,
        metavar="N",
        help="sketches per model call (default: %(default)s)",
    )
    colorize.add_argument(
        "--threads",
        type=int_at_least(1),
        metavar="N",
        help="CPU threads (default: $INFERENCE_THREADS, else all cores)",
    )
    colorize.add_argument(
        "--style",
        choices=STYLES,
        help="cel: one flat color per region; soft: the model's shading "
        "(default: $INFERENCE_STYLE, else cel)",
    )
    colorize.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="int8: a quantized copy, about 2× faster for full-size models "
        "(default: $INFERENCE_PRECISION, else fp32)",
    )
    colorize.add_argument(
        "--hints",
        type=Path,
        metavar="FILE.json",
        help='color hints for every sketch: a JSON list of {"x": 120, "y": 88, "color": '
        '"#d03030"} in the sketch\'s pixels (needs a model trained with hints)',
    )
    colorize.set_defaults(run=colorize_command)


@dataclass(frozen=True)
class Job:
    """One sketch and where its result goes (``raw``/``layer`` beside ``image`` when asked)."""

    source: Path
    image: Path
    raw: Path
    layer: Path


def colorize_command(args: argparse.Namespace) -> int:
    """``pixelpainter colorize``: every sketch found becomes one colored image."""
    settings = read_settings()
    hints = read_hints(args.hints) if args.hints else []
    sketches, failures = find_sketches(args.inputs, exclude=args.out)
    for path, reason in failures:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if not sketches:
        print("pixelpainter: no images found in the given paths.", file=sys.stderr)
        return EXIT_INPUT_FAILED
    jobs, notes = plan_outputs(sketches, args.out, raw=args.raw, layer=args.layer)
    _print_notes(notes)
    _make_room(jobs)
    colorizer = _load_colorizer(args, settings)
    if hints and not colorizer.takes_hints:
        raise CliError(
            f"--hints {args.hints}: this model takes no color hints; "
            "give --weights of a model trained with them."
        )
    done, failed = _run_jobs(colorizer, jobs, args, hints)
    failed += len(failures)

    where = jobs[0].image if jobs[0].image == args.out else args.out
    if failed:
        total = done + failed
        print(f"{done} colorized into {where}; {failed} of {total} sketches failed (see above)")
        return EXIT_INPUT_FAILED
    print(f"{done} colorized into {where}")
    return EXIT_OK


def read_hints(path: Path) -> list[Hint]:
    """The ``--hints`` file's hints; a missing or bad file is a :class:`CliError`."""
    try:
        document = path.read_bytes()
    except OSError as err:
        raise CliError(f"--hints {path}: cannot read it: {why(err)}") from err
    try:
        return parse_hints(document)
    except HintsError as err:
        raise CliError(f"--hints {path}: {err}") from err


def _run_jobs(
    colorizer: Colorizer, jobs: Sequence[Job], args: argparse.Namespace, hints: Sequence[Hint] = ()
) -> tuple[int, int]:
    """Colorize ``jobs`` in batches of ``--batch`` (each with ``hints``); returns (written,
    failed)."""
    done = failed = 0
    progress = _Progress(len(jobs))
    for start in range(0, len(jobs), args.batch):
        ready: list[tuple[Job, Prepared]] = []
        for job in jobs[start : start + args.batch]:
            try:
                prepared = colorizer.prepare(job.source, hints=hints)
            except SketchError as err:
                failed += 1
                progress.write(f"skipped {job.source}: {describe_sketch_error(err)}")
                continue
            _note_downscale(job.source, prepared, args.max_side, progress.write)
            ready.append((job, prepared))
        if ready:
            results = colorizer.run([p for _, p in ready])
            for (job, _), result in zip(ready, results, strict=True):
                try:
                    _save(job, result, raw=args.raw, layer=args.layer)
                    done += 1
                except OSError as err:
                    failed += 1
                    progress.write(f"failed {job.source}: cannot write {job.image}: {why(err)}")
        progress.update(min(args.batch, len(jobs) - start))
    progress.close()
    return done, failed


def find_sketches(
    inputs: Sequence[Path], *, exclude: Path | None = None
) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """Expand ``inputs`` to (sketch, folder it was found in) pairs, each file once.

    A folder is searched recursively for image suffixes, skipping ``exclude`` (the output folder,
    so a second run does not colorize the first one's results). An explicit file is tried
    whatever its name. Paths that do not exist come back as (path, reason) failures.
    """
    found: list[tuple[Path, Path]] = []
    failures: list[tuple[Path, str]] = []
    seen: set[str] = set()
    skip = _key(exclude) if exclude is not None and exclude.is_dir() else None
    for path in inputs:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if not file.is_file() or file.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                if skip is not None and _inside(file, path, skip):
                    continue
                if _key(file) not in seen:
                    seen.add(_key(file))
                    found.append((file, path))
        elif path.exists():
            if _key(path) not in seen:
                seen.add(_key(path))
                found.append((path, path.parent))
        else:
            failures.append((path, "no such file or folder"))
    return found, failures


def _inside(file: Path, root: Path, folder_key: str) -> bool:
    """Whether ``file`` lies in the folder ``folder_key`` somewhere below ``root`` (not root)."""
    return any(
        _key(root / sub) == folder_key for sub in file.relative_to(root).parents if sub != Path()
    )


def plan_outputs(
    sketches: Sequence[tuple[Path, Path]], out: Path, *, raw: bool = False, layer: bool = False
) -> tuple[list[Job], list[str]]:
    """Where each sketch's result goes, and a note for each renamed one.

    ``out`` is a folder, or — for a single sketch — a file named NAME.png/.jpg/.webp. In a folder
    a sketch found in a folder keeps its path relative to that folder (mirrored), a sketch given
    by name lands at the top. Every file the run writes (the image, and ``.raw``/``.layer`` when
    ``raw``/``layer``) is checked: in a folder, a name that is an input, another output or an
    existing file gets ``-2``, ``-3``, ...; a named file that would replace an input is refused.
    """
    inputs = {_key(path) for path, _ in sketches}
    if out.suffix.lower() in OUTPUT_FILE_SUFFIXES and not out.is_dir():
        if len(sketches) != 1:
            raise CliError(
                f"-o {out} names one file, but {len(sketches)} sketches were found: "
                "give a folder instead."
            )
        job = _job(sketches[0][0], out.with_suffix(""), out.suffix)
        for path in _written(job, raw, layer):
            if _key(path) in inputs:
                what = f"-o {out}" if path == out else f"-o {out} would write {path}, which"
                raise CliError(f"{what} is the sketch itself; choose another name.")
        return [job], []
    if out.exists() and not out.is_dir():
        raise CliError(
            f"-o {out} is an existing file; give a folder (or NAME.png for a single sketch)."
        )
    jobs: list[Job] = []
    notes: list[str] = []
    taken = set(inputs)
    for path, root in sketches:
        base = out / path.relative_to(root).with_suffix("")
        job = _job(path, base, ".png")
        n = 1
        while any(_key(p) in taken or p.exists() for p in _written(job, raw, layer)):
            n += 1
            job = _job(path, base.with_name(f"{base.name}-{n}"), ".png")
        if n > 1:
            first = _written(_job(path, base, ".png"), raw, layer)
            clash = next(p for p in first if _key(p) in taken or p.exists())
            why = "is that sketch" if _key(clash) in inputs else "is taken"
            notes.append(f"{path} → {job.image} ({clash} {why})")
        taken.update(_key(p) for p in _written(job, raw, layer))
        jobs.append(job)
    return jobs, notes


def _written(job: Job, raw: bool, layer: bool) -> list[Path]:
    """The files ``job`` writes."""
    return [job.image] + [job.raw] * raw + [job.layer] * layer


def _job(source: Path, base: Path, suffix: str) -> Job:
    return Job(
        source,
        base.with_name(base.name + suffix),
        base.with_name(base.name + ".raw" + suffix),
        base.with_name(base.name + ".layer" + suffix),
    )


def _key(path: Path) -> str:
    # casefold: on macOS and Windows "Pic.png" and "pic.png" are one file.
    return os.path.normcase(str(path.resolve())).casefold()


def _print_notes(notes: list[str]) -> None:
    for note in notes[:NOTES_SHOWN]:
        print(f"renamed: {note}", file=sys.stderr)
    if len(notes) > NOTES_SHOWN:
        print(f"renamed: {len(notes) - NOTES_SHOWN} more the same way", file=sys.stderr)


def _make_room(jobs: Sequence[Job]) -> None:
    for folder in sorted({job.image.parent for job in jobs}):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CliError(f"cannot create the output folder {folder}: {why(err)}") from err
        if not os.access(folder, os.W_OK):
            raise CliError(f"cannot write into {folder}: permission denied.")


def _load_colorizer(args: argparse.Namespace, settings: InferenceSettings) -> Colorizer:
    settings = settings.model_copy(
        update={
            "generator_weights": args.weights or settings.generator_weights,
            "inference_threads": args.threads or settings.inference_threads,
            "inference_style": args.style or settings.inference_style,
            "inference_precision": args.precision or settings.inference_precision,
        }
    )
    announce_conversion(settings)
    try:
        return load_colorizer(settings, max_side=args.max_side)
    except OSError as err:  # the ONNX cache folder cannot be written
        raise CliError(f"cannot convert {settings.generator_weights}: {why(err)}") from err


def announce_conversion(settings: InferenceSettings) -> None:
    """Say so before a slow first conversion to ONNX (and check TensorFlow is there for it)."""
    from inference.engine import onnx_path
    from inference.weights import require_tensorflow

    weights = settings.generator_weights
    if not onnx_path(weights, settings.pixelpainter_cache).exists():
        require_tensorflow(weights, "converting these weights to ONNX")
        print(
            f"Converting {weights} to ONNX once (later runs start at once)…",
            file=sys.stderr,
            flush=True,
        )


def describe_sketch_error(err: SketchError) -> str:
    """The CLI's words for a sketch it could not use (one line, after the file's name)."""
    size, limit = err.size or 0, err.limit or 0
    match err.reason:
        case SketchProblem.EMPTY:
            return "the file is empty"
        case SketchProblem.TRUNCATED:
            return "the image is damaged or incomplete"
        case SketchProblem.TOO_MANY_PIXELS:
            return f"too large ({size / 1e6:.0f} megapixels; the limit is {limit / 1e6:.0f})"
        case SketchProblem.FILE_TOO_LARGE:
            return f"too big ({size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB)"
        case SketchProblem.UNREADABLE:
            return f"cannot read it: {err.detail}"
    return "not an image this program can read (PNG, JPEG, WebP, BMP, GIF or TIFF)"


def _note_downscale(
    source: Path, prepared: Prepared, max_side: int, write: Callable[[str], None]
) -> None:
    try:
        with Image.open(source, formats=SKETCH_FORMATS) as img:
            width, height = img.size
    except OSError:
        return  # it decoded once already; the size is only for the notice
    if max(width, height) > max_side:
        w, h = prepared.size
        write(f"downscaled {source}: {width}×{height} → {w}×{h} (--max-side {max_side})")


def _save(job: Job, result: Colorized, *, raw: bool, layer: bool) -> None:
    _save_image(result.image, job.image)
    if raw:
        _save_image(result.raw, job.raw)
    if layer:
        _save_image(result.layer, job.layer)


def _save_image(img: Image.Image, path: Path) -> None:
    """Write through a temporary file beside ``path``, then rename: a file is whole or absent,
    even when the run is killed or the disk fills up mid-write."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        img.save(temporary, format=Image.registered_extensions()[path.suffix.lower()])
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class _Progress:
    """A tqdm bar on a terminal; on a pipe or in a log, plain lines only."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="img", desc="Colorizing", disable=None)

    def write(self, line: str) -> None:
        self._bar.write(line, file=sys.stderr)

    def update(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


# --- info ---------------------------------------------------------------------------------------


def _add_info(sub: argparse._SubParsersAction) -> None:
    info = sub.add_parser("info", help="describe a weights file: format, width, parameters")
    info.add_argument("weights", type=Path)
    info.set_defaults(run=info_command)


def info_command(args: argparse.Namespace) -> int:
    """``pixelpainter info``: format, width and parameters (an .onnx file needs no TensorFlow)."""
    from inference.weights import FORMAT_NAMES, inspect_weights

    info = inspect_weights(args.weights)
    print(f"file:       {info.path}")
    print(f"format:     {FORMAT_NAMES[info.format]}")
    print(f"width:      {info.width}")
    print(f"parameters: {info.parameters:,}")
    return EXIT_OK


# --- export-onnx --------------------------------------------------------------------------------


def _add_export_onnx(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export-onnx", help="export weights to ONNX for fast CPU inference (needs [tf])"
    )
    export.add_argument("weights", type=Path)
    export.add_argument("out", type=Path, metavar="OUT.onnx")
    export.set_defaults(run=export_onnx_command)


def export_onnx_command(args: argparse.Namespace) -> int:
    """``pixelpainter export-onnx``: write the weights as an ONNX file."""
    from inference.weights import export_onnx, load_generator

    out: Path = args.out
    if out.is_dir():
        raise CliError(f"{out} is a folder; give the file to write, such as {out / 'model.onnx'}.")
    try:
        if _key(out) == _key(args.weights):
            raise CliError(f"{out} is the weights file itself; choose another name.")
        model = load_generator(args.weights)
        written = export_onnx(model, out)
    except OSError as err:
        raise CliError(f"cannot write {out}: {why(err)}") from err
    print(f"wrote {written}")
    return EXIT_OK


# --- shared -------------------------------------------------------------------------------------


def read_settings() -> InferenceSettings:
    """The inference settings; a bad one is a :class:`CliError` (one line, exit code 2)."""
    try:
        return InferenceSettings()
    except ValidationError as err:
        raise CliError(describe_settings_error(err)) from err


def int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def why(err: OSError) -> str:
    return err.strerror or str(err)


if __name__ == "__main__":
    sys.exit(main())
