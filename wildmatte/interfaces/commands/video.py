"""`wildmatte video`: matte a clip from its first frame's mask (or a mask per frame)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wildmatte.applications.lost import LOST_RUN
from wildmatte.applications.propagate import PRESETS, FlowPropagator, Propagator
from wildmatte.applications.video import VideoOutputs, matte_video
from wildmatte.errors import InputError
from wildmatte.inference.engines import ENGINES, default_engine, get_engine

LOST_EXIT = 3  # the object collapsed in some frames (or stayed lost and the run stopped)
CUT_EXIT = 4  # stopped at a scene cut that has no mask: the frames before it are written


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "video",
        help="alpha mattes of a video from the first frame's mask",
        description="Matte every frame of a video file (anything OpenCV reads) or a folder of "
        "frames. Give the first frame's mask (later frames follow it by optical flow and "
        "feature affinity) or a "
        "folder of masks: one per frame, or keyframes named by frame number (000000.png, "
        "000040.png, ...) propagated between. A scene cut without a mask stops the run. "
        "Writes OUT/alpha/000000.png, 000001.png, ...",
    )
    p.add_argument("input", type=Path, help="video file or folder of frames (sorted by name)")
    p.add_argument("--mask", type=Path, help="mask of the object in the first frame")
    p.add_argument(
        "--masks",
        type=Path,
        help="folder of masks: one per frame (used as they are) or keyframes named by frame "
        "number, 0-based (000000.png, 000040.png ...; frames between are propagated)",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--composite", type=Path, help="also write a composite video (.mp4 or .avi)")
    p.add_argument(
        "--background", default="white", help="composite background: colour, image or video"
    )
    p.add_argument("--rgba", action="store_true", help="also write OUT/rgba/ RGBA frames")
    p.add_argument("--resume", action="store_true", help="continue after the last written frame")
    p.add_argument(
        "--propagate",
        choices=("flow", "affinity", "both"),
        default="both",
        help="how the mask is carried: optical flow and the object's shape, ImageNet feature "
        "affinity, or both joined (default)",
    )
    p.add_argument("--flow", choices=sorted(PRESETS), default="medium", help="DIS flow preset")
    p.add_argument("--threshold", type=int, default=128, help="mask binarisation (0-255)")
    p.add_argument(
        "--engine", choices=ENGINES, help="default: the one `wildmatte predict` uses here"
    )
    p.add_argument("--weights", help=".safetensors file (its .json beside it)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda if available)")
    p.add_argument(
        "--no-zoom",
        dest="zoom",
        action="store_false",
        help="matte small objects at the frame's scale (faster; by default objects under 320 px "
        "are matted on an upscaled crop)",
    )
    p.set_defaults(func=run)


def _propagator(args) -> Propagator:
    if args.propagate == "flow":
        return FlowPropagator(args.flow)
    from wildmatte.applications.affinity import AffinityPropagator, JointPropagator

    try:
        affinity = AffinityPropagator()
        return (
            affinity
            if args.propagate == "affinity"
            else JointPropagator(FlowPropagator(args.flow), affinity)
        )
    except (FileNotFoundError, KeyError) as err:  # the shipped feature weights are broken
        raise InputError(args.input, f"--propagate {args.propagate}: {err}") from None


def run(args) -> int:
    if (args.mask is None) == (args.masks is None):
        raise InputError(args.input, "give the first frame's --mask or a --masks folder")
    outputs = VideoOutputs(args.out, args.rgba, args.composite, args.background)
    if args.engine is None:  # the one default, with its fallbacks (no onnx, unwritable cache)
        engine = default_engine(args.weights, args.device, hires=True, zoom=args.zoom)
    else:
        engine = get_engine(args.engine, args.weights, args.device, hires=True, zoom=args.zoom)
    run = matte_video(
        engine,
        args.input,
        outputs,
        mask=args.mask,
        masks=args.masks,
        propagator=_propagator(args),
        resume=args.resume,
        threshold=args.threshold,
    )
    print(f"{run.matted} frames matted with {engine.name}; alphas in {args.out / 'alpha'}")
    if args.composite:
        print(f"wrote {args.composite}")
    if run.cut is not None:
        print(
            f"{args.input}: scene cut at frame {run.cut}, which has no mask: stopped there "
            f"(frames 0-{run.cut - 1} written); to go on, give the next shot's mask as "
            f"{run.cut:06d}.png in a --masks folder (frame 0's as 000000.png) and --resume",
            file=sys.stderr,
        )
        return CUT_EXIT
    if run.stopped is not None:
        first, nxt = run.lost[-LOST_RUN], run.stopped + 1
        print(
            f"{args.input}: the matte lost the object from frame {first} on (frames "
            f"{first}-{run.stopped}): stopped there (frames 0-{run.stopped} written), not to "
            f"matte something else; to go on, give its mask for frame {nxt} as {nxt:06d}.png in "
            "a --masks folder (frame 0's as 000000.png) and --resume",
            file=sys.stderr,
        )
        return LOST_EXIT
    if run.lost:
        frames = ", ".join(map(str, run.lost[:5])) + (" …" if len(run.lost) > 5 else "")
        print(
            f"{args.input}: the matte lost the object in {len(run.lost)} frame(s) ({frames}): "
            "check them, or give keyframe masks there (--masks)",
            file=sys.stderr,
        )
        return LOST_EXIT
    return 0
