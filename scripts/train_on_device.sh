#!/usr/bin/env bash
# Continue training the bundled prior on a rented GPU, in one call of the workplace's
# `device` tool (a machine with python3, torch, numpy, scikit-image and safetensors, but
# not this project's other dependencies, and no network).
#
# Here, first (writes the ignored training/prior_data.npz, ~8 MB):
#   .venv/bin/python scripts/train_prior.py --save-data training/prior_data.npz
# Then the device call, carrying that file:
#   run(command="bash scripts/train_on_device.sh 7", carry=["training/prior_data.npz"],
#       timeout_s=540)
# It resumes from the committed training/prior_state.pt, trains MINUTES minutes
# (batch 64 of 128x128 patches, 8 cropping processes) and leaves in $OUT the weights,
# the card, the log and the state in 15 MB parts (the tool returns files up to 16 MB).
# (OUT=/tmp/out TRAIN_DEVICE=cpu PYTHON=.venv/bin/python ... 0.3 --batch 2 --workers 2
#  runs it here as a dry run.)
# Back here: scripts/train_on_device.sh --unpack FOLDER   (FOLDER: the reply's files_at)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--unpack" ]]; then
    from=${2:?usage: train_on_device.sh --unpack FOLDER}
    if pgrep -f "scripts/train_prior.py" > /dev/null; then
        echo "a local training run is going: stop it first (it would overwrite the state)" >&2
        exit 1
    fi
    cat "$from"/prior_state.pt.part-* > training/prior_state.pt
    cp "$from/prior_log.csv" training/prior_log.csv
    cp "$from/prior.safetensors" "$from/MODEL_CARD.md" src/napari_tweedie/weights/
    cat "$from/train.log" >> training/train.log
    echo "unpacked: training/prior_state.pt, prior_log.csv, train.log; weights and card"
    exit 0
fi

minutes=${1:-7}
shift || true
out=${OUT:?run this through the device tool, or set OUT}
work=$(mktemp -d)
mkdir -p "$work/weights"
cp training/prior_state.pt training/prior_log.csv "$work/"
cp src/napari_tweedie/weights/MODEL_CARD.md "$work/weights/"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
PYTHONUNBUFFERED=1 "${PYTHON:-python3}" scripts/train_prior.py --data training/prior_data.npz \
    --device "${TRAIN_DEVICE:-cuda}" --minutes "$minutes" --resume --lr 3e-4 \
    --state "$work/prior_state.pt" --weights "$work/weights/prior.safetensors" "$@" \
    2>&1 | tee "$out/train.log"
split -b 15M -d "$work/prior_state.pt" "$out/prior_state.pt.part-"
cp "$work/prior_log.csv" "$work/weights/prior.safetensors" "$work/weights/MODEL_CARD.md" "$out/"
rm -rf "$work"
ls -la "$out"
