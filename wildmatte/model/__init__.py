"""The PRN model: config, network, progressive fusion and weight files."""

from wildmatte.model.config import CONFIGS, PRN_LIGHT, PRN_TINY, PRNConfig, get_config
from wildmatte.model.fusion import fuse_progressive, uncertain_band
from wildmatte.model.prn import PRN
from wildmatte.model.weights import load_model, save_model, weight_paths, weights_info

__all__ = [
    "CONFIGS",
    "PRN",
    "PRN_LIGHT",
    "PRN_TINY",
    "PRNConfig",
    "fuse_progressive",
    "get_config",
    "load_model",
    "save_model",
    "uncertain_band",
    "weight_paths",
    "weights_info",
]
