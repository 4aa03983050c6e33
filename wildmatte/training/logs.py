"""Training logs: CSV files (TensorBoard too when installed) and a PNG of the curves."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from wildmatte.files import atomic_write, write_text


class CsvLog:
    """Append rows of {name: number} keyed by step. On resume, rows after `keep_until` (written
    by the killed run after its last checkpoint) are dropped so steps never repeat."""

    def __init__(self, path: Path, keep_until: int = 0) -> None:
        self.path = path
        self.rows: list[dict] = []
        if keep_until and path.is_file():
            with path.open() as f:
                self.rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
        self.tb = _tensorboard(path.parent)
        self._flush()

    def write(self, step: int, values: dict[str, float]) -> None:
        self.rows.append({"step": step, **values})
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(f"{self.path.stem}/{k}", v, step)
        self._flush()

    def _flush(self) -> None:
        keys: list[str] = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=keys or ["step"])
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(self.path, text.getvalue())


def _tensorboard(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(folder / "tb"))


def read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def plot_curves(metrics_csv: Path, val_csv: Path, out_png: Path) -> None:
    """Loss terms (log scale) on the left, validation SAD on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train_rows, val_rows = read_csv(metrics_csv), read_csv(val_csv)
    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "loss_comp", "loss_nat", "l1_os1", "comp_os1", "lap_os1"):
        pts = [(int(r["step"]), float(r[key])) for r in train_rows if r.get(key)]
        if pts:
            ax_loss.plot(*zip(*pts), label=key)
    ax_loss.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
    if ax_loss.lines:
        ax_loss.legend(fontsize=8)
    for key in val_rows[0].keys() if val_rows else []:
        if key.endswith("/SAD"):
            pts = [(int(r["step"]), float(r[key])) for r in val_rows if r.get(key)]
            ax_val.plot(*zip(*pts), marker="o", label=key)
    ax_val.set(xlabel="step", ylabel="SAD (/1000)", title="validation")
    if ax_val.lines:
        ax_val.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(out_png, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)
