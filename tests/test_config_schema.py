"""Every shipped training config passes the schema; the schema refuses what it should."""

from pathlib import Path

import pytest

from wildmatte.errors import InputError
from wildmatte.training.config import load_config
from wildmatte.training.schema import check_config

ROOT = Path(__file__).parents[1]
# Both homes of experiment configs (they are moving from the package to experiments/).
YAMLS = sorted(
    p
    for folder in (ROOT / "wildmatte" / "training" / "configs", ROOT / "experiments" / "configs")
    for p in folder.glob("*.y*ml")
)


def test_there_are_configs_to_check():
    assert len(YAMLS) >= 10


@pytest.mark.parametrize("path", YAMLS, ids=[p.name for p in YAMLS])
def test_every_config_file_passes_the_schema(path):
    cfg = load_config(str(path))  # raises InputError naming the key if not
    assert "data" in cfg


DATA = {"fg": [{"root": "fg"}], "bg": {"root": "bg"}}


@pytest.mark.parametrize(
    ("cfg", "says"),
    [
        ({"data": DATA, "train": {"stpes": 2}}, "train.stpes: unknown key"),
        ({"data": DATA, "train": {"batch_size": "8"}}, "train.batch_size: Input should be"),
        ({"data": DATA, "train": {"amp": 1}}, "train.amp: Input should be a valid boolean"),
        ({"data": DATA, "train": {"workers": 10_000}}, "train.workers"),
        ({"data": DATA, "train": {"loss": {"l1": -1.0}}}, "train.loss.l1"),
        ({"data": {**DATA, "fg": [{"type": "zip", "root": "x"}]}}, "data.fg.0.type"),
        ({"data": {**DATA, "val": {"guidance": ["paper", "fuzzy"]}}}, "data.val.guidance"),
        ({"data": {**DATA, "procedural_kinds": ["hair", "teapot"]}}, "data.procedural_kinds.1"),
        ({"data": {**DATA, "procedural_kinds": []}}, "data.procedural_kinds"),
        ({"data": DATA, "selftrain": {"mode": "teacher"}}, "selftrain.mode"),
        ({"data": DATA, "selftrain": {"views": {"betta": 0.2}}}, "selftrain.views.betta"),
        ({"data": DATA, "selftrain": {"data": {"min_area": 3}}}, "selftrain.data.min_area"),
        ({"data": DATA, "model": {"name": "prn-tiny", "depths": [1, 1]}}, "expected 4 entries"),
    ],
)
def test_schema_names_the_bad_key(cfg, says):
    with pytest.raises(InputError, match="cfg.yaml") as info:
        check_config(cfg, "cfg.yaml")
    assert says in str(info.value) and "\n" not in str(info.value)
