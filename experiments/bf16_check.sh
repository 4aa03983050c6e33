#!/usr/bin/env bash
# Issue 34: bf16 (heads in fp32) against fp32 training, on the wild tune split (the first 60
# targets of data-cache/wild-tune120), both guidance kinds. Runs: effl0-r2's recipe and schedule
# from the ImageNet file, paused with --until; seed 0 in bf16 is the long run itself
# (runs/effl0-r2), seed 1 in bf16 and both seeds in fp32 are experiments/configs/effl0-r2-check-*.
# - equal steps: each run's weights at step 500 (snapshots/step-000500), bf16 against fp32 per
#   seed and over both seeds (per target, the mean of the two seeds);
# - equal time: bf16's weights at step EQ, the last snapshot (every 100 steps) not past the wall
#   time fp32 takes for 500 steps by benchmarks/train_speed.py's trainer rows, against fp32's 500.
# Decided before scoring: bf16 holds at equal steps if, with both guidance kinds, the interval of
# the two-seed difference (bf16 − fp32, SAD) does not lie wholly above 0; it is better at equal
# time if that difference's mean is below 0 with both kinds (and clearly so if its interval is).
# Usage: EQ=600 experiments/bf16_check.sh   (a few minutes per model)
set -euo pipefail
EQ=${EQ:?EQ: the bf16 step of equal wall time, a multiple of 100}
BIN=${BIN:-.venv/bin}
snap() { echo "prn:$1/snapshots/step-$(printf %06d "$2").safetensors"; }
for g in paper noisy; do
  "$BIN/wildmatte" bench eval --data data-cache/wild-tune120 --guidance "$g" --limit 60 \
    --out "outputs/bench/bf16-check-$g" --no-progress --engines \
    "bf16-s0=$(snap runs/effl0-r2 500)" "fp32-s0=$(snap runs/effl0-r2-check-fp32-s0 500)" \
    "bf16-s1=$(snap runs/effl0-r2-check-bf16-s1 500)" "fp32-s1=$(snap runs/effl0-r2-check-fp32-s1 500)" \
    "bf16t-s0=$(snap runs/effl0-r2 "$EQ")" "bf16t-s1=$(snap runs/effl0-r2-check-bf16-s1 "$EQ")"
done
"$BIN/python" experiments/report_wild.py paper=outputs/bench/bf16-check-paper \
  noisy=outputs/bench/bf16-check-noisy \
  --pairs bf16-s0:fp32-s0 bf16-s1:fp32-s1 bf16t-s0:fp32-s0 bf16t-s1:fp32-s1
"$BIN/python" - <<'PY'
import json
from pathlib import Path
from wildmatte.evaluation.stats import paired_bootstrap

print("\n| over both seeds (per target, mean of the seeds' SAD) | guidance | bf16 − fp32 [95%] |")
print("|---|---|---|")
for g in ("paper", "noisy"):
    res = json.loads(Path(f"outputs/bench/bf16-check-{g}/results.json").read_text())
    sad = {e["label"]: {k: s["SAD"] for k, s in e["per_case"].items()} for e in res["engines"]}
    def pooled(prefix):
        a, b = sad[f"{prefix}-s0"], sad[f"{prefix}-s1"]
        return {k: (a[k] + b[k]) / 2 for k in a.keys() & b.keys()}
    fp32 = pooled("fp32")
    for name, prefix in (("equal steps (500)", "bf16"), ("equal time", "bf16t")):
        m, lo, hi = paired_bootstrap(pooled(prefix), fp32)
        print(f"| {name} | {g} | {m:+.2f} [{lo:+.2f}, {hi:+.2f}] |")
PY
