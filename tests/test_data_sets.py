"""Foreground and background sets, the train/val split, image reading and procedural data."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_bg_folder, make_rgba_folder

from wildmatte.data.backgrounds import ImageFolder, open_backgrounds, random_crop_u8
from wildmatte.data.cache import LRUCache
from wildmatte.data.foregrounds import DIMFolder, ListFile, RGBAFolder, open_foregrounds
from wildmatte.data.imageio import list_images, read_alpha, read_rgb, read_rgb_u8, read_rgba
from wildmatte.data.procedural import GENERATORS, ProceduralForegrounds
from wildmatte.data.split import select, train_val_split
from wildmatte.errors import InputError


def _write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def _make_dim(root: Path, stems=("a", "b", "c"), size=(20, 30)) -> Path:
    rng = np.random.default_rng(0)
    h, w = size
    for stem in stems:
        _write(root / "fg" / f"{stem}.png", rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        _write(root / "alpha" / f"{stem}.png", rng.integers(0, 256, (h, w), dtype=np.uint8))
    return root


# -- imageio ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", [read_rgb, read_rgba, read_alpha, read_rgb_u8])
def test_missing_file_names_the_path(tmp_path, reader):
    path = tmp_path / "nowhere" / "missing.png"
    with pytest.raises(InputError, match="missing.png") as info:
        reader(path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("reader", [read_rgb, read_rgba, read_alpha, read_rgb_u8])
@pytest.mark.parametrize("content", [b"", b"this is not an image", b"\x89PNG\r\n\x1a\n\0\0\0"])
def test_corrupt_file_names_the_path(tmp_path, reader, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match="broken.png") as info:
        reader(path)
    assert info.value.path == str(path)


def test_read_rgb_u8_corrupt_with_reduced_decoding(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(InputError, match="broken.jpg"):
        read_rgb_u8(path, min_side=64)


def test_read_16_bit_grey_and_rgba(tmp_path):
    bgr16 = np.zeros((2, 3, 3), np.uint16)
    bgr16[0, 0] = (0, 32768, 65535)  # B, G, R
    rgb = read_rgb(_write(tmp_path / "deep.png", bgr16))
    assert rgb.dtype == np.float32 and rgb.shape == (2, 3, 3)
    np.testing.assert_allclose(rgb[0, 0], [1.0, 32768 / 65535, 0.0], atol=1e-7)
    assert rgb.min() >= 0 and rgb.max() <= 1

    grey = np.array([[0, 51, 255]], np.uint8)
    rgb = read_rgb(_write(tmp_path / "grey.png", grey))
    assert rgb.shape == (1, 3, 3)
    np.testing.assert_allclose(rgb[0, :, 0], [0, 0.2, 1], atol=1e-7)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    np.testing.assert_allclose(read_alpha(tmp_path / "grey.png"), [[0, 0.2, 1]], atol=1e-7)

    alpha16 = np.array([[0, 65535, 13107]], np.uint16)
    np.testing.assert_allclose(
        read_alpha(_write(tmp_path / "alpha16.png", alpha16)), [[0, 1, 0.2]], atol=1e-7
    )

    bgra = np.array([[[255, 0, 0, 0], [0, 0, 255, 128]]], np.uint8)  # blue clear, red half
    path = _write(tmp_path / "rgba.png", bgra)
    fg, alpha = read_rgba(path)
    assert fg.shape == (1, 2, 3) and alpha.shape == (1, 2)
    np.testing.assert_allclose(fg[0], [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(alpha, [[0, 128 / 255]], atol=1e-7)
    np.testing.assert_allclose(read_rgb(path), fg)  # RGB of an RGBA file drops the alpha


def test_read_rgba_without_alpha_is_an_error(tmp_path):
    path = _write(tmp_path / "flat.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InputError, match="flat.png"):
        read_rgba(path)


def test_read_rgb_u8_reduced_scale(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    path = _write(tmp_path / "big.jpg", image)
    assert read_rgb_u8(path).shape == (300, 400, 3)
    assert read_rgb_u8(path, min_side=150).shape == (150, 200, 3)  # 1/2: 150 ≥ 150
    assert read_rgb_u8(path, min_side=100).shape == (150, 200, 3)  # 1/4 would be 75 < 100
    assert read_rgb_u8(path, min_side=10).shape == (38, 50, 3)  # at most 1/8
    grey = _write(tmp_path / "grey.png", np.full((8, 8), 7, np.uint8))
    out = read_rgb_u8(grey)
    assert out.dtype == np.uint8 and out.shape == (8, 8, 3) and (out == 7).all()


def test_list_images(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        list_images(tmp_path / "absent")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="no image files"):
        list_images(tmp_path)
    for name in ("b.JPG", "a.png", "c.webp"):
        (tmp_path / name).write_bytes(b"")
    assert list_images(tmp_path) == ["a.png", "b.JPG", "c.webp"]


# -- foreground sets ----------------------------------------------------------------------------


def test_rgba_folder(tmp_path):
    root = make_rgba_folder(tmp_path / "fg", n=3, size=60)
    fgs = RGBAFolder(root)
    assert len(fgs) == 3 and fgs.names == ["obj0.png", "obj1.png", "obj2.png"]
    fg, alpha = fgs[1]
    assert fg.shape == (60, 60, 3) and alpha.shape == (60, 60)
    assert fg.dtype == alpha.dtype == np.float32
    assert alpha.min() == 0 and alpha.max() == 1 and ((alpha > 0) & (alpha < 1)).any()
    raw = cv2.imread(str(root / "obj1.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_allclose(alpha, raw[..., 3] / 255, atol=1e-6)
    np.testing.assert_allclose(fg, raw[..., 2::-1] / 255, atol=1e-6)
    assert RGBAFolder(root, names=["obj2.png"]).names == ["obj2.png"]
    with pytest.raises(InputError, match="obj9.png"):
        RGBAFolder(root, names=["obj9.png"])


def test_rgba_folder_with_an_rgb_file_names_it(tmp_path):
    root = make_rgba_folder(tmp_path / "fg", n=2, size=60)
    _write(root / "plain.png", np.zeros((8, 8, 3), np.uint8))
    fgs = RGBAFolder(root)
    with pytest.raises(InputError, match="plain.png"):
        fgs[fgs.names.index("plain.png")]


def test_dim_folder_matches_by_name(tmp_path):
    root = _make_dim(tmp_path / "dim")
    # Different extensions for the same stem still match.
    (root / "fg" / "b.png").unlink()
    _write(root / "fg" / "b.jpg", np.full((20, 30, 3), 200, np.uint8))
    fgs = DIMFolder(root)
    assert fgs.names == ["a", "b", "c"]
    fg, alpha = fgs[0]
    assert fg.shape == (20, 30, 3) and alpha.shape == (20, 30)
    raw = cv2.imread(str(root / "alpha" / "a.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_allclose(alpha, raw / 255, atol=1e-6)
    fg, _ = fgs[1]
    np.testing.assert_allclose(fg, 200 / 255, atol=3 / 255)  # JPEG


def test_dim_folder_custom_folder_names(tmp_path):
    root = _make_dim(tmp_path / "dim")
    (root / "fg").rename(root / "images")
    (root / "alpha").rename(root / "mattes")
    assert len(DIMFolder(root, fg="images", alpha="mattes")) == 3
    spec = {"type": "dim", "root": str(root), "fg": "images", "alpha": "mattes"}
    assert len(open_foregrounds(spec)) == 3


@pytest.mark.parametrize("extra", ["fg/d.png", "alpha/e.png"])
def test_dim_folder_unmatched_name_is_an_error(tmp_path, extra):
    root = _make_dim(tmp_path / "dim")
    _write(root / extra, np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(InputError, match=Path(extra).name):
        DIMFolder(root)


def test_dim_folder_nothing_shared_is_an_error(tmp_path):
    root = tmp_path / "dim"
    _write(root / "fg" / "a.png", np.zeros((4, 4, 3), np.uint8))
    _write(root / "alpha" / "b.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError):
        DIMFolder(root)


def test_dim_folder_missing_subfolder_is_an_error(tmp_path):
    root = _make_dim(tmp_path / "dim")
    with pytest.raises(InputError, match="mattes"):
        DIMFolder(root, alpha="mattes")


def test_dim_folder_size_mismatch_names_the_file(tmp_path):
    root = _make_dim(tmp_path / "dim")
    _write(root / "alpha" / "b.png", np.zeros((10, 30), np.uint8))
    fgs = DIMFolder(root)
    fgs[0]  # the others are fine
    with pytest.raises(InputError, match=r"b\.png") as info:
        fgs[1]
    assert "30×10" in str(info.value) and "30×20" in str(info.value)


def test_list_file(tmp_path):
    rgba = make_rgba_folder(tmp_path / "cutouts", n=2, size=60)
    dim = _make_dim(tmp_path / "dim")
    listing = tmp_path / "lists" / "train.txt"
    listing.parent.mkdir()
    listing.write_text(
        "# a comment, then a blank line\n\n"
        "../cutouts/obj0.png\n"
        f"{dim / 'fg' / 'a.png'}   ../dim/alpha/a.png\n"
        "../cutouts/obj1.png\n"
    )
    fgs = ListFile(listing)
    assert len(fgs) == 3
    fg, alpha = fgs[0]
    np.testing.assert_array_equal(alpha, RGBAFolder(rgba)[0][1])
    fg, alpha = fgs[1]
    np.testing.assert_array_equal(alpha, DIMFolder(dim)[0][1])
    np.testing.assert_array_equal(fg, DIMFolder(dim)[0][0])
    spec = {"type": "list", "path": str(listing)}
    assert len(open_foregrounds(spec)) == 3


def test_list_file_errors(tmp_path):
    with pytest.raises(InputError, match="absent.txt"):
        ListFile(tmp_path / "absent.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(InputError, match="empty.txt"):
        ListFile(empty)
    bad = tmp_path / "bad.txt"
    bad.write_text("a.png\nb.png c.png d.png\n")
    with pytest.raises(InputError, match="line 2"):
        ListFile(bad)
    missing = tmp_path / "missing.txt"
    missing.write_text("gone.png\n")
    with pytest.raises(InputError, match="gone.png"):
        ListFile(missing)[0]
    dim = _make_dim(tmp_path / "dim")
    _write(dim / "alpha" / "c.png", np.zeros((5, 5), np.uint8))
    sized = tmp_path / "sized.txt"
    sized.write_text("dim/fg/c.png dim/alpha/c.png\n")
    with pytest.raises(InputError, match=r"c\.png"):
        ListFile(sized)[0]


def test_open_foregrounds_unknown_type(tmp_path):
    with pytest.raises(ValueError, match="unknown foreground set type"):
        open_foregrounds({"type": "zip", "root": str(tmp_path)})


def test_open_foregrounds_expands_data_placeholder(tmp_path, monkeypatch):
    make_rgba_folder(tmp_path / "fg-train", n=2, size=60)
    monkeypatch.setenv("WILDMATTE_DATA", str(tmp_path))
    assert len(open_foregrounds({"root": "{data}/fg-train"})) == 2


# -- splits -------------------------------------------------------------------------------------


def test_split_is_deterministic_disjoint_and_complete():
    names = [f"img{i:04d}.png" for i in range(1000)]
    train, val = train_val_split(names, 0.12)
    assert train_val_split(list(names), 0.12) == (train, val)
    assert not set(train) & set(val)
    assert sorted(train + val) == names
    assert train == [n for n in names if n in set(train)]  # order kept
    assert 0.09 < len(val) / len(names) < 0.15
    # A name's side depends on the name only: shuffling or adding names moves nothing.
    shuffled = list(np.random.default_rng(0).permutation(names))
    assert set(train_val_split(shuffled, 0.12)[1]) == set(val)
    more_train, more_val = train_val_split(names + [f"new{i}.png" for i in range(200)], 0.12)
    assert set(val) <= set(more_val) and set(train) <= set(more_train)
    # A larger fraction only moves names from train to val.
    assert set(val) <= set(train_val_split(names, 0.3)[1])


@pytest.mark.parametrize("n", [2, 3, 5])
def test_small_sets_get_both_sides(n):
    names = [f"x{i}" for i in range(n)]
    for fraction in (0.01, 0.12, 0.99):
        train, val = train_val_split(names, fraction)
        assert train and val and not set(train) & set(val)
    assert train_val_split(names, 0.0) == (names, [])


def test_a_single_name_trains():
    # Names chosen so that some would hash into the val side of a larger set.
    for name in [f"solo{i}.png" for i in range(40)]:
        assert train_val_split([name], 0.5) == ([name], [])
    assert train_val_split(["solo.png"], 1.0) == ([], ["solo.png"])


def test_select():
    names = [f"n{i}" for i in range(50)]
    train, val = train_val_split(names, 0.2)
    assert select(names, "train", 0.2) == train
    assert select(names, "val", 0.2) == val
    assert select(names, "all", 0.2) == names
    with pytest.raises(ValueError, match="unknown split"):
        select(names, "test", 0.2)


def test_train_split_never_holds_val_files(tmp_path):
    root = make_rgba_folder(tmp_path / "fg", n=12, size=60)
    spec = {"type": "rgba", "root": str(root), "val_fraction": 0.25}
    train, val, every = (open_foregrounds(spec, s).names for s in ("train", "val", "all"))
    assert train and val and not set(train) & set(val)
    assert sorted(train + val) == sorted(every) == sorted(p.name for p in root.iterdir())
    assert open_foregrounds(spec, "train").names == train  # same again

    bgs = make_bg_folder(tmp_path / "bg", n=9, size=24)
    spec = {"root": str(bgs), "val_fraction": 0.3}
    train, val = (open_backgrounds(spec, s).names for s in ("train", "val"))
    assert train and val and not set(train) & set(val) and len(train) + len(val) == 9

    dim = _make_dim(tmp_path / "dim", stems=[f"s{i}" for i in range(10)], size=(6, 6))
    spec = {"type": "dim", "root": str(dim), "val_fraction": 0.3}
    train, val = (open_foregrounds(spec, s).names for s in ("train", "val"))
    assert train and val and not set(train) & set(val) and len(train) + len(val) == 10


# -- backgrounds --------------------------------------------------------------------------------


def test_image_folder(tmp_path):
    root = make_bg_folder(tmp_path / "bg", n=3, size=50)
    _write(root / "grey.png", np.full((60, 80), 100, np.uint8))
    bgs = ImageFolder(root)
    assert bgs.names == ["bg0.jpg", "bg1.jpg", "bg2.jpg", "grey.png"]
    image = bgs[3]
    assert image.shape == (60, 80, 3) and image.dtype == np.float32
    np.testing.assert_allclose(image, 100 / 255, atol=1e-6)
    u8 = bgs.read_u8(3)
    assert u8.dtype == np.uint8 and u8.shape == (60, 80, 3)
    assert bgs.read_u8(3) is u8  # cached
    assert bgs.read_u8(0, min_side=20).shape == (25, 25, 3)  # decoded at 1/2
    with pytest.raises(InputError):
        ImageFolder(tmp_path / "absent")


def test_random_crop_u8():
    image = np.random.default_rng(0).integers(0, 256, (90, 140, 3), dtype=np.uint8)
    a = random_crop_u8(image, 64, np.random.default_rng(1))
    b = random_crop_u8(image, 64, np.random.default_rng(1))
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    crops = {random_crop_u8(image, 64, np.random.default_rng(s)).tobytes() for s in range(10)}
    assert len(crops) == 10
    small = random_crop_u8(image[:20, :30], 64, np.random.default_rng(2))  # upscaled
    assert small.shape == (64, 64, 3)


# -- cache --------------------------------------------------------------------------------------


def test_lru_cache_bounded_by_bytes():
    cache = LRUCache(max_bytes=3000)
    made = []

    def make(key):
        made.append(key)
        return np.zeros(1000, np.uint8)

    for key in "abc":
        cache.get(key, lambda key=key: make(key))
    assert len(cache) == 3 and made == ["a", "b", "c"]
    cache.get("a", lambda: make("a"))  # a hit, and now the most recent
    cache.get("d", lambda: make("d"))  # evicts b, the least recent
    assert made == ["a", "b", "c", "d"] and len(cache) == 3
    cache.get("b", lambda: make("b"))
    assert made[-1] == "b"
    big = cache.get("big", lambda: np.zeros(5000, np.uint8))  # too big to keep, still returned
    assert big.nbytes == 5000 and len(cache) == 3


# -- procedural foregrounds ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_procedural_generators(kind):
    texture = np.random.default_rng(9).random((96, 96, 3), dtype=np.float32)
    soft_fractions = []
    for seed in range(4):
        fg, alpha = GENERATORS[kind](np.random.default_rng(seed), 96, lambda: texture)
        assert fg.shape == (96, 96, 3) and alpha.shape == (96, 96)
        assert alpha.min() >= 0 and alpha.max() <= 1 + 1e-6
        assert 0.01 < (alpha > 0).mean() < 0.99
        soft_fractions.append(((alpha > 0) & (alpha < 1)).sum() / (alpha > 0).sum())
        again = GENERATORS[kind](np.random.default_rng(seed), 96, lambda: texture)
        np.testing.assert_array_equal(alpha, again[1])
    assert min(soft_fractions) > 0.05  # anti-aliased or soft, never a hard binary cut


def test_procedural_foregrounds_seeded_soft_and_textured(tmp_path):
    bgs = ImageFolder(make_bg_folder(tmp_path / "bg", n=3, size=80))
    proc = ProceduralForegrounds(bgs, size=64, seed=3, length=14)
    assert len(proc) == 14 and len(proc.names) == 14
    again = ProceduralForegrounds(ImageFolder(bgs.root), size=64, seed=3, length=14)
    other = ProceduralForegrounds(bgs, size=64, seed=4, length=14)
    soft, differs = [], 0
    for i in range(len(proc)):
        fg, alpha = proc[i]
        assert fg.dtype == alpha.dtype == np.float32
        assert fg.shape == (64, 64, 3) and alpha.shape == (64, 64)
        assert fg.min() >= 0 and fg.max() <= 1 and alpha.min() >= 0 and alpha.max() <= 1
        assert alpha.any()
        fg2, alpha2 = again[i]
        np.testing.assert_array_equal(fg, fg2)
        np.testing.assert_array_equal(alpha, alpha2)
        differs += not np.array_equal(alpha, other[i][1])
        soft.append(((alpha > 0) & (alpha < 1)).mean())
        # Colours come from image textures, not one flat colour.
        assert fg.reshape(-1, 3).std(axis=0).max() > 0.01
        assert len(np.unique(fg.reshape(-1, 3), axis=0)) > 100
    assert differs >= 12
    assert np.mean(soft) > 0.05 and min(soft) > 0.01
    with pytest.raises(IndexError):
        proc[14]
    with pytest.raises(ValueError):
        ProceduralForegrounds([], size=64)


def test_dim_folder_two_files_with_one_stem_is_an_error(tmp_path):
    root = _make_dim(tmp_path / "dim")
    _write(root / "fg" / "a.jpg", np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(InputError, match=r"a\.(jpg|png)"):
        DIMFolder(root)


def test_read_alpha_from_colour_and_transparent_masks(tmp_path):
    """Masks painted in a colour, or on a transparent layer, read as the painted region."""
    red = np.zeros((2, 2, 3), np.uint8)
    red[0, 0] = (0, 0, 255)  # BGR: pure red, nothing in the blue channel
    np.testing.assert_array_equal(read_alpha(_write(tmp_path / "red.png", red)), [[1, 0], [0, 0]])

    layer = np.zeros((2, 2, 4), np.uint8)
    layer[..., :3] = 255  # white everywhere; only the alpha channel says where the mask is
    layer[1, 1, 3] = 255
    np.testing.assert_array_equal(
        read_alpha(_write(tmp_path / "layer.png", layer)), [[0, 0], [0, 1]]
    )

    opaque = np.full((1, 2, 4), 255, np.uint8)
    opaque[0, 0, :3] = 0  # fully opaque: the colour says where the mask is
    np.testing.assert_array_equal(read_alpha(_write(tmp_path / "opaque.png", opaque)), [[0, 1]])


def test_solid_objects_are_opaque_with_texture_painted_only_into_the_colour():
    shades = np.random.default_rng(0)
    painted = 0
    for seed in range(8):
        flat = lambda: np.full((128, 128, 3), shades.uniform(0.2, 0.8), np.float32)  # noqa: E731
        fg, alpha = GENERATORS["solid"](np.random.default_rng(seed), 128, flat)
        core = cv2.erode((alpha > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert core.sum() > 0.1 * alpha.size and (alpha[core] == 1).all()
        painted += fg[core].std() > 0.02  # strands in the colour of a flat texture
    assert painted >= 4
