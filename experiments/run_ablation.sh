#!/usr/bin/env bash
# Issue 24's encoder ablation at equal budget (2-core CPU): each abl-* config trained for the same
# steps on the same data, then every run scored on the wild set's tune split with both guidance
# kinds. Tables: python experiments/report_wild.py paper=outputs/bench/abl-paper \
#   noisy=outputs/bench/abl-noisy --pairs abl-scratch:abl-imagenet ...
# Usage: experiments/run_ablation.sh TUNE_SET_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
TUNE=${1:?the tune split folder (wildmatte bench build-wild --split tune)}
RUNS=(abl-imagenet abl-scratch abl-same-lr abl-frozen-bn)
engines=()
for run in "${RUNS[@]}"; do
  [ -f "runs/$run/model.safetensors" ] ||
    .venv/bin/wildmatte train --config "experiments/configs/$run.yaml" --out "runs/$run" --resume \
      2>&1 | tr '\r' '\n' | grep -v '^train:' || true
  engines+=("$run=prn:runs/$run/model.safetensors")
done
for g in paper noisy; do
  .venv/bin/wildmatte bench eval --data "$TUNE" --guidance "$g" --engines "${engines[@]}" \
    --out "outputs/bench/abl-$g" --no-progress | tail -n 3
done
