"""`wildmatte predict`: one image and mask, or folders of them matched by file stem.

`-` stands for standard input (the image) and standard output (the alpha PNG, `-o -`), as rembg's
users expect: they pass through a temporary folder, and messages name them `-`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from wildmatte import validate
from wildmatte.data import imageio
from wildmatte.data.imageio import IMAGE_SUFFIXES
from wildmatte.errors import InputError, WildmatteError
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import ENGINES, TRIMAPS, default_engine, get_engine
from wildmatte.inference.hires import HiresOptions
from wildmatte.inference.pipeline import Options, Outputs, matte_file
from wildmatte.inference.prompts import Box, check_box, parse_box, read_boxes
from wildmatte.inference.shard import parse_shard, take_shard
from wildmatte.inference.trimap import GUIDANCE_THRESHOLD, TrimapEngine, read_trimap

STDIO = "-"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="alpha matte (and cutout, composite) of the masked object",
        description="Predict the alpha matte of the object a mask points at. One image: "
        "IMAGE --mask MASK -o OUT.png. Folders: --images DIR --masks DIR --out DIR "
        "(matched by file stem; outputs OUT/<stem>.png).",
    )
    p.add_argument("image", nargs="?", type=Path, help="the photo (- reads it from stdin)")
    p.add_argument("--mask", type=Path, help="guidance mask for IMAGE (grey/binary image)")
    p.add_argument("--box", help="X0,Y0,X1,Y1: the object's box instead of a mask (GrabCut)")
    p.add_argument("-o", "--output", type=Path, help="alpha PNG for IMAGE (- writes it to stdout)")
    p.add_argument("--images", type=Path, help="folder of photos")
    p.add_argument("--masks", type=Path, help="folder of masks named like the photos")
    p.add_argument("--boxes", type=Path, help="CSV/JSON of boxes by stem instead of --masks")
    p.add_argument("--out", type=Path, help="output folder for --images")
    p.add_argument(
        "--shard",
        metavar="K/N",
        help="with --images: only the K-th (from 0) of N disjoint slices of the sorted photos",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        help="default: the bundled weights, run by onnxruntime on a CPU where it is installed, "
        "else by torch (prn)",
    )
    p.add_argument(
        "--trimap",
        default="paper",
        metavar="PRESET|FILE",
        help="classic engines: the trimap made from the mask, for a tight one (paper, default) or "
        "a segmenter-like one (noisy). Or FILE: your own trimap for IMAGE instead of --mask (0 "
        "background, 128 unknown, 255 foreground): the classic engines solve on it as it is; the "
        "learned ones take its unknown and foreground as the mask, then keep its sure regions",
    )
    p.add_argument("--weights", help=".safetensors file (its .json beside it)")
    p.add_argument(
        "--init",
        choices=("random",),
        help="an untrained model (tests and speed only: its mattes are noise)",
    )
    p.add_argument(
        "--model", default="prn-light", help="config of the --init random model (default prn-light)"
    )
    p.add_argument(
        "--no-hires",
        action="store_true",
        help="run the network on big photos whole (default: over --hires-above MP, a global "
        "pass at 1024 px, then full-resolution tiles on the edges)",
    )
    p.add_argument("--hires-above", type=float, default=2.0, metavar="MP", help="default 2")
    p.add_argument(
        "--band-solve",
        action="store_true",
        help="refine the model's uncertain band with closed-form matting (slower; "
        "learned engines only)",
    )
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda if available)")
    p.add_argument(
        "--cutout",
        nargs="?",
        const=True,
        help="also write an RGBA cutout (a path for one image; flag for folders: OUT/cutout/)",
    )
    p.add_argument(
        "--composite",
        nargs="?",
        const=True,
        help="also write a composite over --background (path, or flag: OUT/composite/)",
    )
    p.add_argument("--background", default="white", help="colour or image (default: white)")
    p.add_argument("--threshold", type=int, default=128, help="mask binarisation (0-255)")
    p.add_argument("--resize-mask", action="store_true", help="resize masks of another size")
    p.add_argument("--bits", type=int, choices=(8, 16), default=8, help="alpha PNG depth")
    p.add_argument(
        "--max-megapixels",
        type=float,
        help=f"refuse larger images before decoding them (default {imageio.MAX_PIXELS / 1e6:g})",
    )
    p.set_defaults(func=run)


def _extra(value, default: Path) -> Path | None:
    if value is None:
        return None
    return default if value is True else Path(value)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _by_stem(files: list[Path]) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = {}
    for f in files:
        groups.setdefault(f.stem, []).append(f)
    return groups


def _collisions(
    images: list[Path], everything: list[Path], masks: list[Path]
) -> tuple[list[Path], list[str]]:
    """Of `images`, those that can be matted alone, and a failure line for each that shares a
    stem with another photo of the folder (one output for both) or has several masks."""
    photo_groups, mask_groups = _by_stem(everything), _by_stem(masks)
    keep, failed = [], []
    for img in images:
        group, masks_of = photo_groups[img.stem], mask_groups.get(img.stem, [])
        if len(group) > 1:
            names = ", ".join(p.name for p in group)
            failed.append(f"{img}: photos {names} share the stem '{img.stem}' (one output)")
        elif len(masks_of) > 1:
            names = ", ".join(p.name for p in masks_of)
            failed.append(f"{img}: several masks match it ({names})")
        else:
            keep.append(img)
    return keep, failed


def _pairs(args) -> tuple[list[tuple[Path, Path, Outputs]], list[str]]:
    """(image, mask, outputs) for every photo in --images, and the failures found before work;
    a missing mask raises per file later."""
    if not args.images.is_dir():
        raise InputError(args.images, "not a folder")
    if _trimap_file(args) is not None:
        raise InputError(
            "--trimap", "a trimap FILE is for one IMAGE; folders take --masks or --boxes"
        )
    if args.out.exists() and not args.out.is_dir():
        raise InputError(args.out, "is a file, not a folder")
    everything = _image_files(args.images)
    if not everything:
        raise InputError(args.images, "no image files found")
    images = take_shard(everything, *parse_shard(args.shard)) if args.shard else everything
    prompts = _box_prompts(args, images) if args.boxes else _mask_files(args, images)
    mask_files = [] if args.boxes else _image_files(args.masks)
    images, failed = _collisions(images, everything, mask_files)
    out = args.out
    jobs = [
        (
            img,
            prompts[img.stem],
            Outputs(
                out / f"{img.stem}.png",
                out / "cutout" / f"{img.stem}.png" if args.cutout else None,
                out / "composite" / f"{img.stem}.png" if args.composite else None,
                args.background,
                args.bits,
            ),
        )
        for img in images
    ]
    return jobs, failed


def _mask_files(args, images: list[Path]) -> dict[str, Path]:
    """Mask path by image stem (a missing one fails for its image only)."""
    if not args.masks or not args.masks.is_dir():
        raise InputError(args.masks or "--masks", "give the masks folder with --masks DIR")
    masks = {p.stem: p for p in sorted(args.masks.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    return {img.stem: masks.get(img.stem, args.masks / f"{img.stem}.png") for img in images}


def _box_prompts(args, images: list[Path]) -> dict[str, Box | None]:
    """Box by image stem; an image with no box (None) fails alone."""
    if args.masks:
        raise InputError(args.boxes, "give --masks or --boxes, not both")
    boxes = read_boxes(args.boxes)
    return {img.stem: boxes.get(img.stem) for img in images}


def _trimap_file(args) -> Path | None:
    """The user's own trimap, or None for a preset name."""
    if args.trimap in TRIMAPS:
        return None
    path = Path(args.trimap)
    if not path.is_file():
        presets = ", ".join(TRIMAPS)
        raise InputError("--trimap", f"{args.trimap!r} is neither a preset ({presets}) nor a file")
    return path


def _single(args) -> list[tuple[Path, Path | Box, Outputs]]:
    trimap = _trimap_file(args)
    guides = sum(g is not None for g in (args.mask, args.box, trimap))
    if guides != 1 or args.output is None:
        raise InputError(
            args.image, "give --mask MASK, --box X0,Y0,X1,Y1 or --trimap FILE (one) and -o OUT.png"
        )
    if args.shard:
        raise InputError("--shard", "splits a folder: use it with --images DIR")
    o = args.output
    outputs = Outputs(
        o,
        _extra(args.cutout, o.with_name(o.stem + "_cutout.png")),
        _extra(args.composite, o.with_name(o.stem + "_composite.png")),
        args.background,
        args.bits,
    )
    if args.box is None:
        return [(args.image, trimap or args.mask, outputs)]
    try:
        box = parse_box(args.box)
        check_box(box, (sys.maxsize, sys.maxsize))  # now what needs no image: inverted, empty
        return [(args.image, box, outputs)]
    except ValueError as err:
        raise InputError("--box", str(err)) from None


def _engine(args):
    hires = not args.no_hires and HiresOptions(max_pixels=args.hires_above * 1e6)
    if args.engine is None and args.init is None:
        return default_engine(args.weights, args.device, hires=hires, band_solve=args.band_solve)
    name = args.engine or "prn"
    if args.init and name != "prn":
        raise InputError("--init", f"only the prn engine has an untrained form, not {name}")
    if (args.weights or args.band_solve) and name not in ("prn", "onnx"):
        what = "--weights" if args.weights else "--band-solve"
        raise InputError("--engine", f"{name} takes no {what}")
    return get_engine(
        name,
        args.weights,
        args.device,
        hires=hires,
        init=args.init,
        model=args.model,
        trimap=args.trimap if args.trimap in TRIMAPS else "paper",
        band_solve=args.band_solve,
    )


def _inputs(args, jobs) -> list[Path]:
    """Every file a run reads or could read: its outputs must not be any of them."""
    files = [p for image, mask, _ in jobs for p in (image, mask) if isinstance(p, Path)]
    for folder in (args.images, args.masks):
        if folder is not None and folder.is_dir():
            files += _image_files(folder)
    if Path(str(args.background)).is_file():
        files.append(Path(str(args.background)))
    return files


def _check(args, jobs) -> None:
    """Every option and output path checked before any model is loaded or file written."""
    validate.threshold(args.threshold)
    if args.max_megapixels is not None:
        validate.max_pixels(args.max_megapixels)
    if args.device:
        validate.device(args.device)
    fgmod.parse_background(args.background, (1, 1))  # a colour or an existing image
    outputs = [p for _, _, o in jobs for p in (o.alpha, o.cutout, o.composite) if p is not None]
    validate.check_outputs(outputs, _inputs(args, jobs))


def _options(args) -> Options:
    limit = None if args.max_megapixels is None else validate.max_pixels(args.max_megapixels)
    # A trimap read as a mask: its unknown and foreground are the guidance.
    threshold = args.threshold if args.trimap in TRIMAPS else GUIDANCE_THRESHOLD
    return Options(threshold, args.resize_mask, limit)


@dataclass
class Pipes:
    """The temporary files standing in for `-`: stdin's image, the alpha bound for stdout."""

    image: Path | None = None
    alpha: Path | None = None

    def shown(self, text: str) -> str:
        """A message with the temporary paths named as the user gave them: `-`."""
        for path in (self.image, self.alpha):
            if path is not None:
                text = text.replace(str(path), STDIO)
        return text


def _pipes(args, folder: Path) -> Pipes:
    """Swap `-` in IMAGE and -o for files in `folder` (stdin is read now)."""
    pipes = Pipes()
    if args.image is not None and str(args.image) == STDIO:
        data = sys.stdin.buffer.read()
        if not data:
            raise InputError(STDIO, "no image on standard input")
        pipes.image = args.image = folder / "stdin"
        pipes.image.write_bytes(data)
    if args.output is not None and str(args.output) == STDIO:
        for name, value in (("--cutout", args.cutout), ("--composite", args.composite)):
            if value is True:
                raise InputError(name, "with -o - (stdout) give its file: --cutout OUT.png")
        pipes.alpha = args.output = folder / "alpha.png"
    return pipes


def run(args) -> int:
    if (args.image is None) == (args.images is None):
        raise InputError("wildmatte predict", "give either IMAGE --mask M -o OUT or --images DIR")
    if args.images is not None and args.out is None:
        raise InputError(args.images, "give the output folder with --out DIR")
    uses_stdio = STDIO in (str(args.image), str(args.output))
    with tempfile.TemporaryDirectory() if uses_stdio else contextlib.nullcontext() as folder:
        pipes = _pipes(args, Path(folder)) if folder else Pipes()
        try:
            return _run(args, pipes)
        except InputError as err:
            if err.path in (str(pipes.image), str(pipes.alpha)):
                raise InputError(STDIO, err.problem) from None
            raise


def _run(args, pipes: Pipes) -> int:
    jobs, failed = (_single(args), []) if args.image is not None else _pairs(args)
    _check(args, jobs)
    options = _options(args)
    trimap = _trimap_file(args)
    trimap = read_trimap(trimap, options.max_pixels) if trimap else None
    for msg in failed:
        print(f"wildmatte: error: {msg}", file=sys.stderr)
    engine = _engine(args)
    if trimap is not None:
        engine = TrimapEngine(engine, trimap)
    written = 0
    total = len(jobs) + len(failed)
    bar = tqdm(jobs, desc=f"matting ({engine.name})", unit="image", disable=total == 1)
    for image, mask, outputs in bar:
        try:
            if mask is None:
                raise InputError(image, f"no box for {image.stem!r} in {args.boxes}")
            paths = matte_file(engine, image, mask, outputs, options)
        except WildmatteError as err:
            failed.append(pipes.shown(str(err)))
            tqdm.write(f"wildmatte: error: {failed[-1]}", file=sys.stderr)
            continue
        except Exception as err:  # a bad file must not stop the batch
            msg = f"{image}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            failed.append(pipes.shown(msg))
            tqdm.write(f"wildmatte: error: {failed[-1]}", file=sys.stderr)
            continue
        written += 1
        if pipes.alpha is not None:
            sys.stdout.buffer.write(pipes.alpha.read_bytes())
            sys.stdout.flush()
        if total == 1:
            for p in paths:
                if p != pipes.alpha:  # stdout holds the PNG: other lines go to stderr
                    print(f"wrote {p}", file=sys.stderr if pipes.alpha else sys.stdout)
    if total > 1:
        print(f"{written} of {total} images matted with {engine.name}; {len(failed)} failed")
        if written:
            print(f"outputs in {args.out}")
    return 1 if failed else 0
