"""Foreground categories held out of training, so a benchmark can test on unseen kinds of object.

Starter cutouts are named by their path in the source package, `/` written as `__`
(`animals__birds__robin.png`); the first component is the category.
"""

from __future__ import annotations

# About a quarter of the starter cutouts (59 of 225): man-made objects of many shapes (guitars with
# holes, tools, hats with bands, vehicles with windows, fruit, planets). No training split sees them.
HELD_OUT = ("clothes", "food", "hobbies", "household", "space", "sports", "vehicles")


def category(name: str) -> str:
    """The top-level category of a cutout's file name ('' when the name has no folder part)."""
    return name.split("__", 1)[0] if "__" in name else ""


def held_out(names: list[str], categories: tuple[str, ...] = HELD_OUT) -> list[str]:
    """The names whose category is held out of training."""
    return [n for n in names if category(n) in categories]


def trainable(names: list[str], categories: tuple[str, ...] = HELD_OUT) -> list[str]:
    """The names training may use: every name outside the held-out categories."""
    return [n for n in names if category(n) not in categories]
