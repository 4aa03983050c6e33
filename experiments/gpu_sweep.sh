#!/usr/bin/env bash
# Several training runs side by side on one lent GPU, sharing its time and the CPU's data workers:
#
#   [WORKERS=4] experiments/gpu_sweep.sh MINUTES CONFIG...
#
# Each run goes through experiments/gpu_train.sh (no GPU timings) into $OUT/CONFIG/ (two files a
# run; a call brings back eight at most, so four runs at most). GPU memory and utilisation are
# sampled every 30 s into $OUT/gpu.csv, to tell whether the GPU or the data workers set the pace.
set -uo pipefail
cd "$(dirname "$0")/.."
MINUTES=$1
shift
OUT=${OUT:-outputs/gpu-sweep}
mkdir -p "$OUT" runs
if compgen -G ".whl/*.whl" >/dev/null; then  # once, before the runs race to install it
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv -l 30 >"$OUT/gpu.csv" &
smi=$!
pids=()
for config in "$@"; do
  OUT="$OUT/$config" SPEED=0 WORKERS=${WORKERS:-4} experiments/gpu_train.sh "$config" "$MINUTES" \
    >"runs/$config.sweep.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
kill "$smi" 2>/dev/null
for config in "$@"; do
  echo "== $config"
  grep -v '^train:' "runs/$config.sweep.log" | tail -8
done
exit "$status"
