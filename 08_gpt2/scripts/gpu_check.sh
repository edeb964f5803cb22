#!/usr/bin/env bash
# One prepared GPU check for 08_gpt2 (issue 18), to run from the repository root on a machine with
# an NVIDIA GPU:  bash 08_gpt2/scripts/gpu_check.sh
# It installs the gpu extra, runs the `gpu` tests (CuPy against NumPy), the bench on the GPU
# against PyTorch, and nanoGPT's shakespeare_char GPU configuration, printing each figure.
# Budget: under 8 minutes on one H200 (the training run is capped at 5 minutes of wall time).
set -euo pipefail
export OPENBLAS_NUM_THREADS=1 MPLBACKEND=Agg CUPY_TF32=1   # TF32 matmuls, as nanoGPT allows
export DNN_DATA_DIR="${DNN_DATA_DIR:-shared/data}"
PY="${PYTHON:-python}"
OUT="${OUT:-runs/08_gpt2/gpu_check}"
mkdir -p "$OUT"

echo "== install (cupy-cuda12x, the gpu extra) =="
"$PY" -m pip install -q -e shared -e "08_gpt2[gpu]" pytest || "$PY" -m pip install -q cupy-cuda12x
"$PY" -c "import cupy; print('cupy', cupy.__version__, 'devices', cupy.cuda.runtime.getDeviceCount())"

echo "== gpu tests: logits and gradients within 1e-4, 20 steps' losses within 1e-3 =="
(cd 08_gpt2 && timeout 120 "$PY" -m pytest -q -m gpu tests/test_device.py)

echo "== bench on the GPU: training step of the shakespeare-char-gpu shape against PyTorch =="
timeout 120 "$PY" -m gpt2 bench --device cuda --only train --train-shape gpu --repeats 5 --out "$OUT/bench" --force

echo "== train --config shakespeare-char-gpu (capped at 5 minutes: --max-minutes 5) =="
timeout 330 "$PY" -m gpt2 train --config shakespeare-char-gpu --max-minutes 5 --out "$OUT/train" --force \
    | grep -v "^train |" || true
"$PY" - "$OUT/train/results.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"best val loss {r.get('best_val_loss')} (bar <= 1.47; nanoGPT 1.4697), iterations {r['iters']}, "
      f"median step {r['step_seconds_median'] * 1000:.1f} ms, {r['tokens_per_second']:.0f} tokens/s")
PYEOF
