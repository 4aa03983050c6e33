"""`wildmatte bench speed` at a tiny size: a table, the machine, and honest skips."""

import json

from wildmatte.evaluation.speed import engine_job, skip_reason, timed
from wildmatte.interfaces.cli import main


def test_speed_prints_a_table_with_the_machine(tmp_path, capsys):
    argv = ["bench", "speed", "--engines", "prn-tiny", "classic", "--sizes", "64"]
    argv += ["--repeats", "2", "--classic-max-mp", "0.001", "--json", str(tmp_path / "s.json")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Machine: " in out and "cores" in out and "torch" in out
    assert "| engine | size |" in out
    assert "| prn-tiny | 64² | cpu (threads: " in out and "| fp32 | 1 |" in out
    assert "skipped: closed-form at 0.0041 MP is over the 0.001 MP budget" in out
    rows = json.loads((tmp_path / "s.json").read_text())["rows"]
    tiny = rows[0]
    assert tiny["median_s"] > 0 and tiny["throughput"] > 0
    # A tiny model at 64² in a fresh process: some memory, far below a GiB (a unit slip, such
    # as bytes or KiB read as MiB, lands outside).
    assert 0 < tiny["peak_mib"] < 1024
    assert tiny["repeats"] == 2
    assert "VmHWM" in tiny["memory"] or "ru_maxrss" in tiny["memory"]


def test_budget_cuts_repeats_but_keeps_one():
    calls = []
    times = timed(lambda: calls.append(1), repeats=50, budget_s=0.0)
    assert len(times) == 1 and len(calls) == 2  # warm-up + one timed call


def test_classic_is_capped_by_pixels_only_on_cpu():
    job = {**engine_job("classic"), "size": 2048, "device": "cpu"}
    assert "over the 1.1 MP budget" in skip_reason(job, 1.1)
    assert skip_reason({**job, "size": 1024}, 1.1) is None
    assert skip_reason({**engine_job("prn"), "size": 2048, "device": "cpu"}, 1.1) is None
    # KNN and large-kernel matting get a quarter of closed-form's budget.
    knn = {**engine_job("classic-knn"), "size": 1024, "device": "cpu"}
    assert "over the 1.1 MP budget" in skip_reason({**knn, "size": 2048}, 4.4)
    assert skip_reason(knn, 4.4) is None and skip_reason({**knn, "device": "cuda"}, 0.1) is None


def test_peak_memory_sees_an_allocation_of_known_size():
    import mmap

    import numpy as np

    from wildmatte.evaluation.memory import PeakMemory

    with PeakMemory("cpu") as mem:
        # Fresh pages from the kernel, all touched: a heap block could reuse pages a long test
        # session already holds, and then the resident set would not grow.
        block = mmap.mmap(-1, 64 * 2**20)
        np.frombuffer(block, np.uint8)[:] = 1
        block.close()
    # VmHWM after a reset measures the block itself; the lifetime peak (the fallback) can only
    # be higher.
    assert mem.mib >= 60
    if mem.method.startswith("VmHWM"):
        assert mem.mib < 200
