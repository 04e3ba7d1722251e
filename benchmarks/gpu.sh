#!/usr/bin/env bash
# The translation benchmark on a CUDA GPU: NLLB-200 shapes (600M, then 1.3B) with random weights, the
# engine (planner, dedup, memory) against mBLIP's plain transformers bf16 loop (timed on its first
# batches, LOOP_BUDGET_S seconds per workload, and extrapolated: its batches are alike and
# independent), and the cost models measured on the GPU (the planner's CUDA table). The engine runs
# on CTranslate2 in bfloat16 and int8_float16 when a CUDA-capable ctranslate2 is installed, else on
# the loop's own transformers bf16 model. Writes $OUT (default benchmarks/results)/gpu-<shape>.json
# and .log with every figure (sentences/s, tokens/s, model FLOP utilisation) and prints the summary
# lines. Each shape runs under its own time limit, so that one slow shape still leaves the other's figures.
#
#     bash benchmarks/gpu.sh    # needs torch built with CUDA (not the CPU wheel `make install` pins)
#     SCALE_600M=40 SCALE_13B=20 LIMIT_S=240 bash benchmarks/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || exit 1
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('torch', torch.__version__)" || exit 1
if "$PY" -c "import ctranslate2, sys; sys.exit(ctranslate2.get_cuda_device_count() == 0)" 2>/dev/null; then
    TYPES=bfloat16,int8_float16
else
    echo "no CUDA-capable ctranslate2 here: the engine runs on transformers bf16"
    TYPES=auto
fi
# Pinning: what a translation run tagged mmassets/gpu=k loads on (the translator resource's rule), and
# the tiny model loaded and translating there.
"$PY" - <<'PYTHON' 2>&1 | tee "$OUT/gpu-pinning.log"
import tempfile, time
from pathlib import Path
import torch
from mmassets.devices import GPU_TAG, detected_gpus, gpu_count, pinned_device
from mmassets.translation.nllb import NLLBModel
from mmassets.translation.backend import GenerationSettings
from mmassets.translation.tiny_model import build_tiny_nllb
print(f"GPUs detected (nvidia-smi -L): {detected_gpus()}; gpu_count(): {gpu_count()}")
with tempfile.TemporaryDirectory() as tmp:
    folder = build_tiny_nllb(Path(tmp) / "tiny", ["eng_Latn", "deu_Latn"])
    for k in range(gpu_count()):
        device, note = pinned_device("auto", {GPU_TAG: str(k)}, torch.cuda.is_available)
        started = time.perf_counter()
        model = NLLBModel.load(str(folder), device=device)
        out = model.translate_batch(["a dog on a red bench", "two cats"], "eng_Latn", "deu_Latn", GenerationSettings())
        weights = next(model.model.parameters())
        print(f"run tagged {GPU_TAG}={k}: translator device {device} (note: {note}); tiny model on "
              f"{weights.device} {weights.dtype}, {len(out)} translations in {time.perf_counter() - started:.2f} s")
PYTHON
for shape in 600M 1.3B; do
    scale_var="SCALE_${shape//[.]/}"
    timeout "${LIMIT_S:-300}" "$PY" benchmarks/translate_throughput.py --device cuda --shapes "$shape" \
        --compute-types "$TYPES" --scale "${!scale_var:-${SCALE:-100}}" --loop-budget-s "${LOOP_BUDGET_S:-15}" \
        --calibrate --json "$OUT/gpu-$shape.json" 2>&1 | tee "$OUT/gpu-$shape.log"
    echo "$shape: rc ${PIPESTATUS[0]}; figures in $OUT/gpu-$shape.json"
done
