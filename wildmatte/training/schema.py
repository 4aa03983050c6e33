"""The schema of training configs: every key, its type and its sensible range.

`check_config` runs on every loaded config (after `base:` and `--set`), so a typo such as
`--set train.stpes=2`, a string where a number belongs, or a negative learning rate fails at
load with the key's dotted name, instead of being ignored or failing an hour into a run.
Keys are optional (the trainer and data code hold the defaults); unknown keys are refused, so
a new config key is added here too (tests/test_config_schema.py loads every shipped config).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wildmatte.data.procedural import GENERATORS
from wildmatte.errors import InputError

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0, le=1e4)]
Count = Annotated[int, Field(ge=1, le=10**12)]
Steps = Annotated[int, Field(ge=0, le=10**9)]
Side = Annotated[int, Field(ge=16, le=8192)]
Pixels = Annotated[int, Field(ge=0, le=1024)]
Beta = Annotated[float, Field(ge=0.0, lt=1.0)]
Quality = Annotated[int, Field(ge=1, le=100)]

# YAML lists of a fixed length (strict mode takes no list for a tuple).
TwoOf = Field(min_length=2, max_length=2)
PixelPair = Annotated[list[Pixels], TwoOf]
BetaPair = Annotated[list[Beta], TwoOf]
QualityPair = Annotated[list[Quality], TwoOf]
Range = Annotated[list[float], TwoOf]
HeadWeights = Annotated[list[Weight], Field(min_length=3, max_length=3)]
ProceduralKind = Literal[tuple(GENERATORS)]  # type: ignore[valid-type]


class Strict(BaseModel):
    """No unknown keys, no silent type conversion ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ForegroundSet(Strict):
    type: Literal["rgba", "dim", "list"] = "rgba"
    root: str | None = None
    path: str | None = None
    fg: str | None = None
    alpha: str | None = None
    val_fraction: Fraction | None = None


class BackgroundSet(Strict):
    root: str
    val_fraction: Fraction | None = None


class ValSet(Strict):
    n: Annotated[int, Field(ge=1, le=100_000)] | None = None
    size: Side | None = None
    seed: int | None = None
    guidance: Literal["paper", "noisy"] | list[Literal["paper", "noisy"]] | None = None


class Data(Strict):
    fg: Annotated[list[ForegroundSet], Field(min_length=1)]
    bg: BackgroundSet
    crop_size: Side | None = None
    mode: Literal["instance-wise", "merge", "single"] | None = None
    cutmask: bool | None = None
    procedural_ratio: Fraction | None = None
    procedural_kinds: Annotated[list[ProceduralKind], Field(min_length=1)] | None = None
    length: Count | None = None
    guidance_kernel: PixelPair | None = None
    noisy_guidance_ratio: Fraction | None = None
    partial_ratio: Fraction | None = None
    sharpness_match: Fraction | None = None
    procedural_size: Side | None = None
    max_upscale: Annotated[float, Field(gt=0.0, le=16.0)] | None = None
    camouflage: Fraction | None = None
    attach: Fraction | None = None
    val: ValSet | None = None


class Loss(Strict):
    l1: Weight | None = None
    comp: Weight | None = None
    lap: Weight | None = None
    bg: Weight | None = None
    missed: Weight | None = None


def _ordered(pair: list | None) -> list | None:
    if pair is not None and pair[0] > pair[1]:
        raise ValueError(f"low {pair[0]} is above high {pair[1]}")
    return pair


class Train(Strict):
    steps: Annotated[int, Field(ge=1, le=10**9)] | None = None
    minutes: Annotated[float, Field(gt=0.0, le=10**6)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=4096)] | None = None
    lr: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    betas: BetaPair | None = None
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    warmup_steps: Steps | None = None
    min_lr_ratio: Fraction | None = None
    clip_grad: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    freeze_bn: bool | None = None
    encoder_lr_ratio: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    amp: bool | Literal["bf16", "fp32"] | None = None  # true: bf16 where the device has it
    channels_last: bool | None = None
    ema: Fraction | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    workers: Annotated[int, Field(ge=0, le=256)] | None = None
    band_warmup: Steps | None = None
    band_radius_os4: PixelPair | None = None
    band_radius_os1: PixelPair | None = None
    head_weights: HeadWeights | None = None
    loss: Loss | None = None
    ckpt_every: Annotated[int, Field(ge=1, le=10**9)] | None = None
    snapshot_every: Annotated[int, Field(ge=1, le=10**9)] | None = None
    val_every: Steps | None = None  # 0: no validation
    log_every: Annotated[int, Field(ge=1, le=10**9)] | None = None
    device: Annotated[str, Field(pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")] | None = None

    _bands = field_validator("band_radius_os4", "band_radius_os1")(_ordered)


class WeakData(Strict):
    type: Literal["coco", "folder"] = "coco"
    annotations: str | None = None
    images: str | None = None
    root: str | None = None
    crop_size: Side | None = None
    crowd: bool | None = None
    min_area: Fraction | None = None
    max_area: Fraction | None = None
    length: Count | None = None


class Views(Strict):
    pixel: bool | None = None
    region: bool | None = None
    guidance: bool | None = None
    beta: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    noise: Range | None = None
    contrast: Range | None = None
    blur: Range | None = None
    jpeg: QualityPair | None = None
    object_scale: Range | None = None
    max_upscale: Annotated[float, Field(gt=0.0, le=100.0)] | None = None

    _ranges = field_validator("noise", "contrast", "blur", "jpeg", "object_scale")(_ordered)


class Selftrain(Strict):
    init: str | None = None
    mode: Literal["self-training", "segmentation"] | None = None
    ema: Fraction | None = None
    heads: Literal["all", "fused"] | None = None
    head_weights: HeadWeights | None = None
    batch_size: Annotated[int, Field(ge=1, le=4096)] | None = None
    weight: Weight | None = None
    data: WeakData | None = None
    views: Views | None = None


class Config(Strict):
    name: str | None = None
    model: str | dict | None = None
    init: str | None = None
    data: Data
    train: Train | None = None
    selftrain: Selftrain | None = None

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str | dict | None) -> str | dict | None:
        from wildmatte.model.config import get_config

        if value is not None:
            try:
                get_config(value)
            except KeyError as err:
                raise ValueError(err.args[0]) from None
        return value


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def check_config(cfg: object, source: object) -> None:
    """Raise one InputError naming `source` (the file) and the first bad key of `cfg`."""
    try:
        Config.model_validate(cfg)
    except ValidationError as err:
        first = err.errors()[0]
        # Union members add their type to the location (`model.str`); the key is what matters.
        loc = tuple(p for p in first["loc"] if p not in ("str", "bool", "dict", "list[...]"))
        if first["type"] == "extra_forbidden":
            problem = "unknown key"
        else:
            msg = first["msg"].removeprefix("Value error, ")
            problem = f"{msg} (got {first.get('input')!r})"
        raise InputError(source, f"{_where(loc)}: {problem}") from None
