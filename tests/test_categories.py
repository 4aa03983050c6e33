"""Held-out foreground categories never reach training."""

import cv2
import numpy as np

from wildmatte.data.categories import HELD_OUT, category, held_out, trainable
from wildmatte.data.foregrounds import open_foregrounds

NAMES = [
    "animals__birds__robin.png",
    "animals__mammals__cat.png",
    "food__fruit__apple.png",
    "hobbies__music__guitar.png",
    "vehicles__ship__boat.png",
    "plants__flowers__rose.png",
    "loose.png",
]


def test_category_is_the_first_path_component():
    assert category("animals__birds__robin.png") == "animals"
    assert category("loose.png") == ""


def test_held_out_and_trainable_partition_the_names():
    out, keep = held_out(NAMES), trainable(NAMES)
    assert set(out) | set(keep) == set(NAMES)
    assert not set(out) & set(keep)
    assert {category(n) for n in out} <= set(HELD_OUT)
    assert out == [
        "food__fruit__apple.png",
        "hobbies__music__guitar.png",
        "vehicles__ship__boat.png",
    ]


def test_no_split_of_a_training_set_sees_a_held_out_category(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6] = 255
    for name in NAMES:
        cv2.imwrite(str(tmp_path / name), rgba)
    seen = set()
    for split in ("train", "val", "all"):
        seen |= set(open_foregrounds({"root": str(tmp_path)}, split).names)
    assert seen == set(trainable(NAMES))
    assert not seen & set(held_out(NAMES))
