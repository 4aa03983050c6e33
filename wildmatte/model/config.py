"""PRN configurations: a small dataclass per variant, JSON-serialisable.

Every PRNConfig is checked when made (types, lengths, sizes within bounds), and one read from a
file also has its size estimated before any weight is allocated: a width of 10⁷ in a JSON beside
weights is one ValueError naming the key, not a 900 TB allocation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MAX_CHANNELS = 4096
MAX_DEPTH = 64
# Larger models are refused before allocation (4 bytes a parameter: 8 GB).
MAX_PARAMETERS = 2_000_000_000

# (field, number of entries or None for a scalar, lowest, highest)
_BOUNDS = (
    ("stem", None, 1, MAX_CHANNELS),
    ("widths", 4, 1, MAX_CHANNELS),
    ("depths", 4, 1, MAX_DEPTH),
    ("aspp", None, 1, MAX_CHANNELS),
    ("aspp_rates", (1, 8), 1, 64),
    ("shortcut", 5, 1, MAX_CHANNELS),
    ("decoder", 5, 1, MAX_CHANNELS),
    ("decoder_depths", 4, 0, MAX_DEPTH),
)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_field(key: str, value: object, count, lo: int, hi: int) -> None:
    values = (value,) if count is None else value
    if count is not None:
        if not isinstance(value, tuple):
            raise ValueError(f"model config '{key}': expected a list of integers, got {value!r}")
        lo_n, hi_n = count if isinstance(count, tuple) else (count, count)
        if not lo_n <= len(value) <= hi_n:
            want = f"{lo_n}" if lo_n == hi_n else f"{lo_n}-{hi_n}"
            raise ValueError(f"model config '{key}': expected {want} entries, got {len(value)}")
    for v in values:
        if not _is_int(v):
            raise ValueError(f"model config '{key}': expected integers, got {v!r}")
        if not lo <= v <= hi:
            raise ValueError(f"model config '{key}': {v} is out of range {lo}-{hi}")


@dataclass(frozen=True)
class PRNConfig:
    """Depth and width knobs of the progressive refinement network.

    widths/depths: the four residual stages (1/4, 1/8, 1/16, 1/32); stem: channels at 1/2;
    shortcut: channels of the skip features at 1/1, 1/2, 1/4, 1/8, 1/16;
    decoder: channels of the decoder at 1/16, 1/8, 1/4, 1/2, 1/1.
    """

    name: str = "prn"
    stem: int = 64
    widths: tuple[int, ...] = (64, 128, 256, 512)
    depths: tuple[int, ...] = (3, 4, 6, 3)
    aspp: int = 256
    aspp_rates: tuple[int, ...] = (1, 2, 4, 6)
    shortcut: tuple[int, ...] = (32, 32, 64, 128, 256)
    decoder: tuple[int, ...] = (256, 128, 64, 32, 32)
    decoder_depths: tuple[int, ...] = (2, 3, 3, 2)
    # "resnet" (the encoder above, trained from scratch) or an ImageNet-pretrainable
    # EfficientNet-Lite ("efficientnet-lite0" ...), whose own channels replace stem/widths/depths.
    backbone: str = "resnet"
    # Segmentation-training baseline (issue 5): an extra binary-mask head at 1/8.
    seg_head: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for key, count, lo, hi in _BOUNDS:
            _check_field(key, getattr(self, key), count, lo, hi)
        if not isinstance(self.seg_head, bool):
            raise ValueError(
                f"model config 'seg_head': expected true or false, got {self.seg_head!r}"
            )
        if not isinstance(self.backbone, str):
            raise ValueError(f"model config 'backbone': expected a string, got {self.backbone!r}")
        if self.backbone != "resnet":
            from wildmatte.model.efficientnet_lite import VARIANTS

            if self.backbone not in VARIANTS:
                known = ", ".join(["resnet", *VARIANTS])
                raise ValueError(f"model config 'backbone': {self.backbone!r}; known: {known}")
        if not isinstance(self.name, str):
            raise ValueError(f"model config 'name': expected a string, got {self.name!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PRNConfig:
        """A checked config from JSON-like data; unknown keys and oversized models refused."""
        if not isinstance(data, dict):
            raise ValueError(f"model config: expected an object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"model config: unknown key(s) {', '.join(map(repr, unknown))}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        config = cls(**values)
        check_size(config)
        return config


def parameter_count(config: PRNConfig) -> int:
    """Parameters of the model `config` describes, counted without allocating them."""
    import torch

    from wildmatte.model.prn import PRN

    with torch.device("meta"):
        return sum(p.numel() for p in PRN(config).parameters())


def check_size(config: PRNConfig, limit: int = MAX_PARAMETERS) -> int:
    """The parameter count, or a ValueError when over `limit`, before anything is allocated."""
    count = parameter_count(config)
    if count > limit:
        raise ValueError(
            f"model config: {count / 1e6:,.0f} M parameters ({4 * count / 2**30:,.1f} GiB) "
            f"is over the {limit / 1e6:,.0f} M limit"
        )
    return count


# The paper's model: ResNet-34 stage depths (3, 4, 6, 3).
PRN = PRNConfig()

# Same design, a fraction of the compute: what runs well on a CPU and what we ship.
PRN_LIGHT = PRNConfig(
    name="prn-light",
    stem=32,
    widths=(32, 64, 128, 192),
    depths=(2, 2, 2, 2),
    aspp=128,
    shortcut=(16, 16, 32, 64, 128),
    decoder=(128, 64, 32, 16, 16),
    decoder_depths=(1, 2, 2, 1),
)

# prn-light's decoder on the EfficientNet-Lite0 encoder, which starts from ImageNet weights.
PRN_EFFL0 = PRNConfig(
    name="prn-effl0",
    backbone="efficientnet-lite0",
    aspp=128,
    shortcut=(16, 16, 32, 64, 128),
    decoder=(128, 64, 32, 16, 16),
    decoder_depths=(1, 2, 2, 1),
)

# For tests only: a few thousand parameters.
PRN_TINY = PRNConfig(
    name="prn-tiny",
    stem=8,
    widths=(8, 8, 16, 16),
    depths=(1, 1, 1, 1),
    aspp=16,
    shortcut=(4, 4, 8, 8, 16),
    decoder=(16, 8, 8, 4, 4),
    decoder_depths=(1, 1, 1, 1),
)

CONFIGS: dict[str, PRNConfig] = {c.name: c for c in (PRN, PRN_LIGHT, PRN_EFFL0, PRN_TINY)}


def get_config(name_or_dict: str | dict | PRNConfig) -> PRNConfig:
    if isinstance(name_or_dict, PRNConfig):
        return name_or_dict
    if isinstance(name_or_dict, dict):
        # A partial dict starts from the named config: {"name": "prn-light", "seg_head": true}.
        start = (
            CONFIGS[name_or_dict["name"]].to_dict() if name_or_dict.get("name") in CONFIGS else {}
        )
        return PRNConfig.from_dict({**start, **name_or_dict})
    if not isinstance(name_or_dict, str) or name_or_dict not in CONFIGS:
        raise KeyError(f"unknown model config {name_or_dict!r}; known: {', '.join(CONFIGS)}")
    return CONFIGS[name_or_dict]
