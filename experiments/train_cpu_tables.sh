#!/bin/bash
# Train every CPU-scale row of docs/RESULTS.md (Table 1 and Table 2), then regenerate it.
# Stage 1 (from scratch) first: the stage-2 rows start from runs/open-instance-wise. Two
# single-thread runs at a time, as fast in total as one run on two threads on a 2-core machine.
# About 2 h 30 on 2 cores. A killed run continues where it stopped (--resume) on the next call.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
BIN=.venv/bin

train() {
  printf '%s\n' "$@" | xargs -P "$JOBS" -I{} sh -c '
    if [ -f runs/{}/model.safetensors ]; then echo "{}: done"; exit 0; fi
    resume=""; [ -f runs/{}/checkpoint.safetensors ] && resume=--resume
    OMP_NUM_THREADS=1 '"$BIN"'/wildmatte train --config experiments/configs/{}.yaml --out runs/{} $resume > runs/{}.log 2>&1 \
      && echo "{}: trained" || { echo "{}: failed, see runs/{}.log"; exit 1; }'
}

mkdir -p runs
train open-instance-wise open-mgmatting open-mgmatting-star
[ -f data-cache/weak-train/instances.json ] || $BIN/wildmatte data build-weak \
  --fg '{data}/fg-train' --bg '{data}/bg-train' --out data-cache/weak-train --n 400
train open-selftrain open-stage2-control open-segmentation-training open-no-guide-pert \
  open-no-image-pert open-pixel+region-pert open-region-pert
$BIN/python benchmarks/results.py "$@"
