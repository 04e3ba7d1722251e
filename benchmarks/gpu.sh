#!/usr/bin/env bash
# The translation benchmark on a CUDA GPU: NLLB-200 600M and 1.3B shapes, the engine on CTranslate2
# in bfloat16 and int8_float16, workloads 100× the CPU default, against the plain transformers bf16
# loop (timed on its first batches, LOOP_BUDGET_S seconds per workload, and extrapolated: its batches
# are alike and independent); the cost models measured on the GPU (the planner's CUDA table).
# Writes $OUT (default benchmarks/results)/gpu-<date>.json with every figure (sentences/s,
# tokens/s, model FLOP utilisation) and prints the summary lines. Sized for about 5 minutes on an
# H100/H200 (an estimate: no GPU has been lent to this project yet).
#
#     bash benchmarks/gpu.sh    # needs torch built with CUDA (not the CPU wheel `make install` pins)
#                               # and ctranslate2 (its PyPI wheels include CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
OUT=${OUT:-benchmarks/results}
SCALE=${SCALE:-100}
mkdir -p "$OUT"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PY" -c "import ctranslate2, torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print('ctranslate2', ctranslate2.__version__, 'cuda devices', ctranslate2.get_cuda_device_count())"
"$PY" benchmarks/translate_throughput.py --device cuda --shapes 600M,1.3B \
    --compute-types bfloat16,int8_float16 --scale "$SCALE" --loop-budget-s "${LOOP_BUDGET_S:-15}" --calibrate \
    --json "$OUT/gpu-$stamp.json" \
    | tee "$OUT/gpu-$stamp.log"
echo "figures: $OUT/gpu-$stamp.json"
