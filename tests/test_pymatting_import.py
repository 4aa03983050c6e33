"""The first import of pymatting compiles its kernels for about a minute: it is announced."""

import sys

import pytest

from wildmatte.inference import pymatting_import
from wildmatte.inference.pymatting_import import kernels_cached, load_pymatting


def test_kernels_cached_looks_beside_the_package_or_in_numba_cache_dir(tmp_path):
    package, cache = tmp_path / "pymatting", tmp_path / "numba"
    (package / "util" / "__pycache__").mkdir(parents=True)
    (package / "util" / "__pycache__" / "boxfilter.cpython-311.pyc").write_bytes(b"")
    assert not kernels_cached(package)
    (package / "util" / "__pycache__" / "boxfilter.f-6.py311.nbi").write_bytes(b"")
    assert kernels_cached(package)
    assert not kernels_cached(package, str(cache))  # NUMBA_CACHE_DIR set, but nothing in it
    (cache / "x").mkdir(parents=True)
    (cache / "x" / "f-1.py311.nbi").write_bytes(b"")
    assert kernels_cached(tmp_path / "absent", str(cache))


@pytest.mark.parametrize("cached", [False, True])
def test_the_compile_is_announced_only_when_it_will_happen(monkeypatch, capsys, cached):
    import torch

    load_pymatting()  # the real one first: monkeypatch puts it back afterwards
    monkeypatch.delitem(sys.modules, "pymatting")
    monkeypatch.setattr(pymatting_import, "kernels_cached", lambda *a: cached)
    threads = torch.get_num_threads()
    module = load_pymatting()
    assert module is sys.modules["pymatting"] and callable(module.estimate_alpha_cf)
    err = capsys.readouterr().err
    assert ("compiling closed-form matting's kernels" in err) is not cached
    assert torch.get_num_threads() == threads
