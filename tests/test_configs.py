"""Configs: the package's few, the experiments' many (by path), and the move between them."""

import json
from pathlib import Path

import pytest

from wildmatte.errors import InputError
from wildmatte.training.config import CONFIG_DIR, available_configs, load_config

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments" / "configs"
# Every config's resolved contents, dumped from the package before experiments moved out of it.
BEFORE_MOVE = json.loads((Path(__file__).parent / "data" / "configs_before_move.json").read_text())


def experiment(name: str) -> dict:
    return load_config(EXPERIMENTS / f"{name}.yaml")


@pytest.mark.parametrize("name", sorted(BEFORE_MOVE))
def test_moved_and_kept_configs_resolve_as_before(name):
    moved = EXPERIMENTS / f"{name}.yaml"
    assert moved.is_file() != (name in available_configs()), "in exactly one place"
    assert load_config(moved if moved.is_file() else name) == BEFORE_MOVE[name]


def test_package_ships_a_handful_of_configs():
    assert len(available_configs()) <= 12
    assert {"paper", "instance-wise", "selftrain", "light-default"} <= set(available_configs())
    for name in available_configs():
        assert load_config(name)["name"] == name
    for path in EXPERIMENTS.glob("*.yaml"):
        assert load_config(path)["name"] == path.stem


def test_light_default_is_the_last_link_written_out_from_the_shipped_weights():
    text = (CONFIG_DIR / "light-default.yaml").read_text()
    assert "\nbase:" not in text and "runs/" not in text.split("\nname:")[1]
    light, last_link = load_config("light-default"), experiment("r9-partial")
    assert light["init"] == "{default}"
    assert {**light, "name": last_link["name"], "init": last_link["init"]} == last_link
    shipped = json.loads((ROOT / "wildmatte" / "weights" / "default.json").read_text())
    assert shipped["meta"]["config"] == last_link["name"]


def test_base_resolves_beside_the_file_then_in_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the experiments' folder: bases resolve from the file
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "mine.yaml").write_text("base: paper\nname: mine\ntrain: {steps: 7}\n")
    (tmp_path / "lab" / "more.yaml").write_text("base: mine\nname: more\ntrain: {lr: 0.5}\n")
    (tmp_path / "lab" / "up.yaml").write_text("base: ../up-base.yaml\nname: up\n")
    (tmp_path / "up-base.yaml").write_text("base: selftrain\nname: up-base\n")
    more = load_config(tmp_path / "lab" / "more.yaml")
    assert (more["train"]["steps"], more["train"]["lr"]) == (7, 0.5)
    assert {**more, "name": "paper", "train": load_config("paper")["train"]} == load_config("paper")
    assert load_config("lab/up.yaml")["selftrain"] == load_config("selftrain")["selftrain"]
    (tmp_path / "paper.yaml").write_text("base: paper\nname: paper\nmodel: prn-light\n")
    assert load_config("paper.yaml")["model"] == "prn-light"  # its base is the package's paper
    (tmp_path / "lost.yaml").write_text("base: nowhere\n")
    with pytest.raises(InputError, match="lost.yaml.*unknown config nowhere"):
        load_config("lost.yaml")


def test_exponents_without_a_dot_are_numbers(tmp_path):
    """YAML 1.1 reads 3e-4 as a string; in a config or a --set it means the number."""
    path = tmp_path / "exp.yaml"
    path.write_text("base: effl0\ntrain: {lr: 3e-4}\n")
    cfg = load_config(path, ["train.clip_grad=1E0", "train.warmup_steps=20"])
    assert cfg["train"]["lr"] == 3e-4 and cfg["train"]["clip_grad"] == 1.0
    assert cfg["train"]["warmup_steps"] == 20 and isinstance(cfg["train"]["warmup_steps"], int)
    assert load_config("effl0", ["name=1e-3x"])["name"] == "1e-3x"  # not a number: a string
