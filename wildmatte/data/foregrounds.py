"""Foreground sets: each item is (fg H×W×3, alpha H×W), float32 in [0, 1].

Three layouts are read: a folder of RGBA cutouts, the Deep Image Matting (Composition-1k)
layout with matching `fg/` and `alpha/` folders, and a list file of paths.
"""

from pathlib import Path

import numpy as np

from wildmatte.data.categories import trainable
from wildmatte.data.imageio import list_images, read_alpha, read_rgb, read_rgba
from wildmatte.data.paths import expand
from wildmatte.data.split import select, train_val_split
from wildmatte.errors import InputError

__all__ = ["RGBAFolder", "DIMFolder", "ListFile", "train_val_split", "open_foregrounds"]

Item = tuple[np.ndarray, np.ndarray]


def _pick(all_names: list[str], names: list[str] | None, where: Path) -> list[str]:
    if names is None:
        return all_names
    missing = sorted(set(names) - set(all_names))
    if missing:
        raise InputError(where, f"no such entries: {', '.join(missing[:5])}")
    return list(names)


def _check_same_size(fg: np.ndarray, alpha: np.ndarray, path: Path) -> Item:
    if fg.shape[:2] != alpha.shape:
        raise InputError(
            path,
            f"alpha is {alpha.shape[1]}×{alpha.shape[0]} but the foreground is {fg.shape[1]}×{fg.shape[0]}",
        )
    return fg, alpha


class RGBAFolder:
    """A folder of RGBA images; the alpha channel is the matte."""

    def __init__(self, root: str | Path, names: list[str] | None = None) -> None:
        self.root = expand(root)
        self.names = _pick(list_images(self.root), names, self.root)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> Item:
        return read_rgba(self.root / self.names[i])


def _by_stem(folder: Path) -> dict[str, str]:
    """File names of the images in folder by stem; two files with one stem are an error."""
    files: dict[str, str] = {}
    for name in list_images(folder):
        stem = Path(name).stem
        if stem in files:
            raise InputError(folder / name, f"same name as {files[stem]}: cannot tell which to use")
        files[stem] = name
    return files


class DIMFolder:
    """Deep Image Matting layout: root/fg/NAME.* and root/alpha/NAME.* matched by file stem."""

    def __init__(
        self, root: str | Path, fg: str = "fg", alpha: str = "alpha", names: list[str] | None = None
    ) -> None:
        self.root = expand(root)
        self.fg_dir, self.alpha_dir = self.root / fg, self.root / alpha
        self._fg_files = _by_stem(self.fg_dir)
        self._alpha_files = _by_stem(self.alpha_dir)
        matched = sorted(set(self._fg_files) & set(self._alpha_files))
        if not matched:
            raise InputError(self.root, f"no file stems shared by {fg}/ and {alpha}/")
        # A file without its partner is a broken dataset: say which, rather than skip it.
        for files, folder, other in (
            (self._fg_files, self.fg_dir, alpha),
            (self._alpha_files, self.alpha_dir, fg),
        ):
            unmatched = sorted(set(files) - set(matched))
            if unmatched:
                more = f" (and {len(unmatched) - 1} more)" if len(unmatched) > 1 else ""
                raise InputError(
                    folder / files[unmatched[0]], f"no matching file in {other}/{more}"
                )
        self.names = _pick(matched, names, self.root)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> Item:
        stem = self.names[i]
        fg_path = self.fg_dir / self._fg_files[stem]
        alpha = read_alpha(self.alpha_dir / self._alpha_files[stem])
        return _check_same_size(read_rgb(fg_path), alpha, fg_path)


def _parse_list(path: Path) -> dict[str, tuple[Path, Path | None]]:
    if not path.is_file():
        raise InputError(path, "list file not found")
    entries = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) > 2:
            raise InputError(path, f"line {number}: expected 'fg_path alpha_path' or one RGBA path")
        fg = path.parent / fields[0]
        alpha = path.parent / fields[1] if len(fields) == 2 else None
        entries[fields[0]] = (fg, alpha)
    if not entries:
        raise InputError(path, "the list is empty")
    return entries


class ListFile:
    """A text file, one item per line: `fg_path alpha_path` or a single RGBA path.

    Paths are relative to the list file's folder; blank lines and `#` comments are skipped.
    """

    def __init__(self, path: str | Path, names: list[str] | None = None) -> None:
        self.path = expand(path)
        self._entries = _parse_list(self.path)
        self.names = _pick(list(self._entries), names, self.path)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> Item:
        fg_path, alpha_path = self._entries[self.names[i]]
        if alpha_path is None:
            return read_rgba(fg_path)
        return _check_same_size(read_rgb(fg_path), read_alpha(alpha_path), fg_path)


def open_foregrounds(spec: dict, split: str = "all"):
    """A foreground set from a config entry, restricted to one split ("train", "val" or "all").

    spec: {"type": "rgba" | "dim" | "list", "root": "{data}/fg-train", "val_fraction": 0.12};
    "dim" also takes "fg" and "alpha" folder names, "list" takes "path" (or "root") to the file.
    Cutouts of the held-out categories (wildmatte.data.categories) never reach any split of an
    RGBA folder: they are kept for the independent benchmark.
    """
    kind = spec.get("type", "rgba")
    fraction = float(spec.get("val_fraction", 0.12))
    if kind == "rgba":
        full = RGBAFolder(spec["root"])
        names = trainable(full.names)
        return RGBAFolder(full.root, select(names, split, fraction))
    if kind == "dim":
        folders = {"fg": spec.get("fg", "fg"), "alpha": spec.get("alpha", "alpha")}
        full = DIMFolder(spec["root"], **folders)
        return DIMFolder(full.root, names=select(full.names, split, fraction), **folders)
    if kind == "list":
        full = ListFile(spec.get("path", spec.get("root")))
        return ListFile(full.path, select(full.names, split, fraction))
    raise ValueError(f"unknown foreground set type {kind!r}: expected 'rgba', 'dim' or 'list'")
