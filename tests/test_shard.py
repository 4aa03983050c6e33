"""`predict --shard K/N`: N disjoint slices whose union is the whole sorted folder."""

import cv2
import numpy as np
import pytest

from wildmatte.errors import InputError
from wildmatte.inference.shard import parse_shard, take_shard
from wildmatte.interfaces.cli import main


@pytest.mark.parametrize("n_items, count", [(0, 3), (1, 4), (7, 3), (10, 10), (11, 4)])
def test_shards_are_disjoint_and_cover_everything(n_items, count):
    items = list(range(n_items))
    shards = [take_shard(items, k, count) for k in range(count)]
    assert sorted(sum(shards, [])) == items
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


@pytest.mark.parametrize("text", ["3", "a/b", "4/4", "-1/4", "0/0", "1/"])
def test_bad_shard_is_an_input_error(text):
    with pytest.raises(InputError, match="--shard"):
        parse_shard(text)


def test_predict_shards_split_a_folder(tmp_path, capsys):
    images, masks = tmp_path / "img", tmp_path / "mask"
    images.mkdir()
    masks.mkdir()
    names = [f"p{i:02d}" for i in range(7)]
    mask = np.zeros((24, 32), np.uint8)
    mask[6:18, 8:24] = 255
    for name in names:
        cv2.imwrite(str(images / f"{name}.png"), np.full((24, 32, 3), 90, np.uint8))
        cv2.imwrite(str(masks / f"{name}.png"), mask)
    seen = []
    for k in range(3):
        out = tmp_path / f"out{k}"
        args = ["--images", images, "--masks", masks, "--out", out, "--engine", "guidance"]
        assert main(["predict", *map(str, args), "--shard", f"{k}/3"]) == 0
        seen.append(sorted(p.stem for p in out.glob("*.png")))
    assert sorted(sum(seen, [])) == names
    assert sum(map(len, seen)) == len(names)  # disjoint
    assert (
        main(
            [
                "predict",
                "--images",
                str(images),
                "--masks",
                str(masks),
                "--out",
                str(tmp_path / "x"),
                "--shard",
                "3/3",
            ]
        )
        == 2
    )
    assert "--shard" in capsys.readouterr().err
