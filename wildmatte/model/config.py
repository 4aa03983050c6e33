"""PRN configurations: a small dataclass per variant, JSON-serialisable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
    # Segmentation-training baseline (issue 5): an extra binary-mask head at 1/8.
    seg_head: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PRNConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key, value in known.items():
            if isinstance(value, list):
                known[key] = tuple(value)
        return cls(**known)


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

CONFIGS: dict[str, PRNConfig] = {c.name: c for c in (PRN, PRN_LIGHT, PRN_TINY)}


def get_config(name_or_dict: str | dict | PRNConfig) -> PRNConfig:
    if isinstance(name_or_dict, PRNConfig):
        return name_or_dict
    if isinstance(name_or_dict, dict):
        # A partial dict starts from the named config: {"name": "prn-light", "seg_head": true}.
        start = (
            CONFIGS[name_or_dict["name"]].to_dict() if name_or_dict.get("name") in CONFIGS else {}
        )
        return PRNConfig.from_dict({**start, **name_or_dict})
    if name_or_dict not in CONFIGS:
        raise KeyError(f"unknown model config {name_or_dict!r}; known: {', '.join(CONFIGS)}")
    return CONFIGS[name_or_dict]
