#!/usr/bin/env bash
# Issue 34, step 3: the finished effl0 run against the shipped r9 on the wild tune split, both
# guidance kinds (the first 60 targets of data-cache/wild-tune120 are the 30-image tune split's).
# Scores the run's final weights and its best-by-validation ones. Decided before looking: the one
# with the lower SAD summed over both guidance kinds is the candidate; it ships if its paired
# difference to r9 is negative with both kinds (issue 34: "beats r9 on the tune split over both
# guidance kinds"); only the shipped one is then scored on the test split, once
# (benchmarks/wild_results.py).
# r9's predictions are reused from its tune120 runs (outputs/bench/tune120-{paper,noisy}).
# Usage: experiments/effl0_ship_check.sh [RUN_DIR]   (default runs/effl0; a few minutes per model)
set -euo pipefail
RUN=${1:-runs/effl0}
OUT=outputs/bench/effl0-end
BIN=${BIN:-.venv/bin}
# r9=prn is the bundled default: scored from its kept predictions only while r9 is bundled.
if ! grep -q '"prn-light.r9"' wildmatte/weights/default.json; then
  echo "effl0_ship_check: the bundled default is no longer r9; run this before shipping" >&2
  exit 2
fi
for g in paper noisy; do
  mkdir -p "$OUT-$g/predictions"
  if [ ! -d "$OUT-$g/predictions/r9" ]; then
    cp -r "outputs/bench/tune120-$g/predictions/r9" "$OUT-$g/predictions/"
  fi
  "$BIN/wildmatte" bench eval --data data-cache/wild-tune120 --guidance "$g" --limit 60 \
    --out "$OUT-$g" --engines r9=prn "final=prn:$RUN/model.safetensors" \
    "best=prn:$RUN/best.safetensors"
done
"$BIN/python" experiments/report_wild.py "paper=$OUT-paper" "noisy=$OUT-noisy" \
  --pairs final:r9 best:r9 final:best
