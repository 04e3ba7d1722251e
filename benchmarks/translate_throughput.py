"""Translation throughput per task file: the engine at its defaults against mBLIP's plain loop.

    python benchmarks/translate_throughput.py [--quick] [--device auto] [--shapes 600M] [--scale K]
                                              [--compute-types auto] [--calibrate] [--json PATH]

Model: NLLB-200 shapes with random weights, built locally (speed depends on shapes, not weight
values): ``600M`` is NLLB-200-distilled-600M (d_model 1024, 12+12 layers, FFN 4096, vocabulary
256,206), ``1.3B`` NLLB-200-distilled-1.3B (24+24 layers, FFN 8192), ``tiny`` the project's tiny
model's shapes (a smoke test). Output lengths are pinned (each batch generates exactly 1.1× its
longest source), so that random weights cannot stop early or never; the quality gate is off (it
would judge random output).

Workloads, one task file each, as mBLIP translated them:
- captions: 8–25-word image captions, all distinct; the loop's batches are 256;
- vqa: VQA questions with VQAv2's repetition (about 37% distinct); batches of 256;
- llava: LLaVA answers of 30–150 words, all distinct; batches of 64.

For each: the plain loop (transformers in the device's default dtype, fixed batches in file order,
no dedup, no memory: mBLIP's translate_train.py) and the engine with its default settings
(backend ``auto`` — CTranslate2, int8 on CPU — dedup, memory, batches of least predicted time
under its cost-model table), in the same process, on the same random weights. Refresh: a captions
file translated by the engine, then the same file with 1% new strings on the filled memory; its
time as a fraction of the full run.

Per workload it prints sentences/s of both, the ratio and the engine's padding; the last line is
for scripts: ``speedup_min=<x> speedup_captions=<x> speedup_vqa=<x> speedup_llava=<x>
padding_fraction=<p> refresh_fraction=<r>``. ``--calibrate`` times a few batch shapes on the
loop's and the engine's backends and prints their cost models (the planner's table is made so).
``--json`` writes every figure, with tokens/s and model FLOP utilisation on CUDA
(``benchmarks/gpu.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from mmassets.translation.backend import GenerationSettings
from mmassets.translation.engine import TranslationEngine
from mmassets.translation.memory import TranslationMemory
from mmassets.translation.planner import COEFFICIENTS

SRC, TGT = "eng_Latn", "deu_Latn"
SETTINGS = GenerationSettings(fixed_length_ratio=1.1)
_COMMON = dict(vocab_size=256_206, d_model=1024, encoder_attention_heads=16, decoder_attention_heads=16,
               max_position_embeddings=1024, scale_embedding=True, pad_token_id=1, bos_token_id=0, eos_token_id=2,
               decoder_start_token_id=2)
SHAPES = {
    "600M": dict(_COMMON, encoder_layers=12, decoder_layers=12, encoder_ffn_dim=4096, decoder_ffn_dim=4096),
    "1.3B": dict(_COMMON, encoder_layers=24, decoder_layers=24, encoder_ffn_dim=8192, decoder_ffn_dim=8192),
    "tiny": dict(_COMMON, vocab_size=None, d_model=32, encoder_layers=2, decoder_layers=2, encoder_ffn_dim=64,
                 decoder_ffn_dim=64, encoder_attention_heads=2, decoder_attention_heads=2),
}

# Strings per workload (the loop's batch, default size, --quick size); --scale multiplies the sizes.
SIZES = {"captions": (256, 256, 64), "vqa": (256, 512, 128), "llava": (64, 64, 16)}
REFRESH = (2048, 256)  # captions in the refresh run (default, --quick)
NEW_SHARE = 0.01

SUBJECTS = ("man woman dog cat child bus train pizza player bird horse girl boy table sign kite surfer skier "
            "elephant giraffe zebra bench clock truck boat plate bowl umbrella laptop phone sandwich").split()
COLORS = "red blue green white black yellow brown orange gray pink purple silver".split()
PLACES = ("street beach kitchen field park table road river snow grass room window shelf court airport "
          "station market garden desk counter").split()
ACTIONS = "standing sitting walking riding holding eating looking playing lying flying parked waiting".split()
QUESTION_FORMS = ("What color is the {s}?", "Is the {s} {c}?", "How many {s}s are there?", "Is there a {s}?",
                  "What is the {s} doing?", "Where is the {s}?", "Is this a {s}?", "What is on the {s}?",
                  "Is the {s} in the {p}?", "What is next to the {s}?")


def _sentence(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while len(out) < words:
        out += [rng.choice(("a", "the", "two", "an old", "a small")), rng.choice(COLORS), rng.choice(SUBJECTS),
                rng.choice(ACTIONS), rng.choice(("near", "on", "in", "beside", "under")), "the", rng.choice(PLACES)]
    return " ".join(out[:words]).capitalize() + "."


def captions(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct captions of 8 to 25 words."""
    rng, seen = random.Random(seed), {}
    while len(seen) < n:
        seen.setdefault(_sentence(rng, rng.randint(8, 25)), None)
    return list(seen)


def vqa_questions(n: int, seed: int = 0, distinct_share: float = 0.37) -> list[str]:
    """``n`` questions drawn from a pool of ``distinct_share × n`` (VQAv2 asks the same questions of
    many images), in file order: pool first, then repeats, shuffled."""
    rng, pool = random.Random(seed), {}
    while len(pool) < max(1, round(n * distinct_share)):
        form = rng.choice(QUESTION_FORMS)
        pool.setdefault(form.format(s=rng.choice(SUBJECTS), c=rng.choice(COLORS), p=rng.choice(PLACES)), None)
    questions = list(pool) + [rng.choice(list(pool)) for _ in range(n - len(pool))]
    rng.shuffle(questions)
    return questions


def llava_answers(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct answers of 30 to 150 words (three to ten sentences)."""
    rng, seen = random.Random(seed), {}
    while len(seen) < n:
        words, parts = rng.randint(30, 150), []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(_sentence(rng, rng.randint(8, 18)))
        seen.setdefault(" ".join(parts), None)
    return list(seen)


GENERATORS = {"captions": captions, "vqa": vqa_questions, "llava": llava_answers}


@dataclass
class Timing:
    strings: int
    seconds: float
    batches: int
    source_tokens: int
    padded_tokens: int
    generated_tokens: int
    model_translated: int = 0
    memory_hits: int = 0
    predicted_seconds: float | None = None
    extrapolated_from: str | None = None  # the loop timed on some of its batches only

    @property
    def sentences_per_s(self) -> float:
        return self.strings / self.seconds

    @property
    def padding(self) -> float:
        return 1 - self.source_tokens / self.padded_tokens if self.padded_tokens else 0.0

    def line(self, name: str) -> str:
        extra = "" if self.predicted_seconds is None else f", predicted {self.predicted_seconds:.1f} s"
        extra += f" (extrapolated from {self.extrapolated_from})" if self.extrapolated_from else ""
        return (f"  {name:<8} {self.sentences_per_s:9.2f} sentences/s  {self.seconds:7.1f} s  {self.batches:4d} batches  "
                f"padding {self.padding:6.1%}  {self.model_translated} model-translated, {self.memory_hits} from "
                f"memory{extra}")


@dataclass
class LoopModel:
    """The plain loop's transformers model of one shape, kept in float32 on the host for conversions."""

    shape: str
    model: object  # NLLBModel
    saved: Path | None  # the float32 checkpoint CTranslate2 converts (None without CTranslate2)
    parameters: dict[str, int] = field(default_factory=dict)


def build_loop_model(shape: str, device: str, folder: Path) -> LoopModel:
    import torch
    from transformers import AutoTokenizer, M2M100Config, M2M100ForConditionalGeneration

    from mmassets.translation.backend import resolve_backend
    from mmassets.translation.nllb import NLLBModel, resolve_device, resolve_dtype
    from mmassets.translation.tiny_model import build_tiny_nllb

    tokenizer = AutoTokenizer.from_pretrained(build_tiny_nllb(folder / "tokenizer", [SRC, TGT]))
    device = resolve_device(device)
    dtype = resolve_dtype("auto", device)
    config = dict(SHAPES[shape])
    config["vocab_size"] = config["vocab_size"] or len(tokenizer)
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(M2M100Config(**config)).eval()
    embedding = model.model.shared.weight.numel()
    parameters = {"total": sum(p.numel() for p in model.parameters()),
                  "encoder": sum(p.numel() for p in model.model.encoder.parameters()) - embedding,
                  # the decoder's embedding is also its output projection: counted once, here
                  "decoder": sum(p.numel() for p in model.model.decoder.parameters())}
    saved = None
    if resolve_backend("auto") == "ctranslate2":
        saved = folder / f"nllb-{shape}"
        model.save_pretrained(saved)
        tokenizer.save_pretrained(saved)
    loop = NLLBModel(tokenizer, model.to(device=device, dtype=dtype), name=f"nllb-{shape}-shapes-random",
                     revision="bench", device=device, dtype=dtype)
    return LoopModel(shape, loop, saved, parameters)


def engine_backend(loop: LoopModel, compute_type: str, folder: Path) -> tuple[object, str]:
    """What backend ``auto`` gives the engine: CTranslate2 (the loop's weights converted to
    ``compute_type``) when installed, else the loop's own transformers model."""
    if loop.saved is None:
        return loop.model, f"transformers {loop.model.dtype}"
    from mmassets.translation import ct2

    started = time.perf_counter()
    backend = ct2.CT2Model.load(str(loop.saved), device=loop.model.device, compute_type=compute_type,
                                cache_dir=str(folder))
    print(f"ctranslate2 {backend.compute_type}: converted and loaded in {time.perf_counter() - started:.1f} s")
    return backend, f"ctranslate2 {backend.compute_type}"


class Recording:
    """A backend that remembers the batches it was given (to count their tokens after the clock stops)."""

    def __init__(self, backend):
        self.backend, self.batches = backend, []

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def translate_batch(self, texts, src, tgt, settings):
        self.batches.append(list(texts))
        return self.backend.translate_batch(texts, src, tgt, settings)

    def tokens(self) -> tuple[int, int, int]:
        """Source tokens, padded source tokens and generated tokens of the batches recorded."""
        lengths = [self.backend.token_lengths(batch, SRC) for batch in self.batches]
        return (sum(map(sum, lengths)), sum(len(b) * max(b) for b in lengths),
                sum(SETTINGS.new_tokens(max(b))[1] * len(b) for b in lengths))


def plain_loop(model, texts: list[str], batch_size: int, budget_s: float | None = None) -> Timing:
    """mBLIP's loop: fixed batches in file order, padded to the longest, every string translated.
    With ``budget_s``, only the batches that fit in it are timed and the time is extrapolated."""
    batches = [texts[start:start + batch_size] for start in range(0, len(texts), batch_size)]
    recording = Recording(model)
    _sync(model)
    started = time.perf_counter()
    for batch in batches:
        recording.translate_batch(batch, SRC, TGT, SETTINGS)
        if budget_s is not None and time.perf_counter() - started >= budget_s:
            break
    _sync(model)
    seconds, timed = time.perf_counter() - started, len(recording.batches)
    recording.batches = batches  # the tokens of all of them
    extrapolated = None if timed == len(batches) else f"{timed} of {len(batches)} batches"
    return Timing(len(texts), seconds * len(batches) / timed, len(batches), *recording.tokens(),
                  model_translated=len(texts), extrapolated_from=extrapolated)


def engine_run(backend, texts: list[str], memory: Path) -> Timing:
    """The engine at its defaults (token budget, batch limit, cost model) on a memory at ``memory``."""
    recording = Recording(backend)
    engine = TranslationEngine(recording, TranslationMemory(memory), settings=SETTINGS,
                               check=lambda source, translation, target: None)
    _sync(backend)
    started = time.perf_counter()
    stats = engine.translate(texts, SRC, TGT).stats
    _sync(backend)
    seconds = time.perf_counter() - started
    return Timing(len(texts), seconds, stats.batches, *recording.tokens(), stats.model_translated,
                  stats.memory_hits, stats.predicted_seconds)


def _sync(model) -> None:
    if str(getattr(model, "device", "cpu")).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def calibrate(backend) -> None:
    from mmassets.translation.planner import Timer
    from mmassets.translation.planner import calibrate as fit

    started = time.perf_counter()
    model = fit(Timer(backend, SRC, TGT))  # the planner's shapes: short and long, few rows and many
    print(f"cost model of {getattr(backend, 'identity', '?')[:48]} ({time.perf_counter() - started:.0f} s): "
          f"{model.describe()}")
    print(f"  as a table entry: CostModel({', '.join(f'{name}={getattr(model, name):.3g}' for name in COEFFICIENTS)})")


PEAK_TFLOPS = {  # dense tensor-core peaks (bf16, int8) by device name, for model FLOP utilisation
    "H200": (989.0, 1979.0), "H100": (989.0, 1979.0), "A100": (312.0, 624.0), "L40S": (362.0, 733.0),
    "L4": (121.0, 242.0), "A10": (125.0, 250.0),
}


def device_peak(compute_type: str) -> float | None:
    """The device's dense peak in FLOP/s for ``compute_type`` (None on CPU or an unknown GPU)."""
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, (bf16, int8) in PEAK_TFLOPS.items():
        if key in name:
            return (int8 if compute_type.startswith("int8") else bf16) * 1e12
    return None


def model_flops(timing: Timing, parameters: dict[str, int]) -> float:
    """2 × parameters × tokens, each token counted with the parameters it passes through: source
    tokens the encoder's, generated tokens the decoder's (with the output projection)."""
    return 2.0 * (parameters["encoder"] * timing.source_tokens + parameters["decoder"] * timing.generated_tokens)


def run(args) -> dict:
    import torch

    on_gpu = args.device != "cpu" and torch.cuda.is_available()
    device = "cuda" if on_gpu else "cpu"
    where = f"cuda {torch.cuda.get_device_name()}" if on_gpu else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {where}; torch {torch.__version__}; shapes {args.shapes}; "
          f"{'--quick' if args.quick else 'default'} sizes × {args.scale}")
    results: dict = {"device": where, "quick": args.quick, "scale": args.scale, "runs": []}
    workloads = {name: GENERATORS[name]((quick if args.quick else default) * args.scale)
                 for name, (_, default, quick) in SIZES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            started = time.perf_counter()
            loop = build_loop_model(shape, device, Path(tmp) / shape)
            print(f"model: NLLB-200 {shape} shapes ({loop.parameters['total'] / 1e6:.0f}M parameters), random "
                  f"weights, built in {time.perf_counter() - started:.1f} s; the loop on transformers {loop.model.dtype}")
            if args.calibrate:
                calibrate(loop.model)
            loops = {}
            for name, texts in workloads.items():
                loops[name] = plain_loop(loop.model, texts, SIZES[name][0], args.loop_budget_s)
                print(f"  the loop on {name}: {loops[name].seconds:.1f} s")
            for compute_type in args.compute_types.split(","):
                backend, engine_name = engine_backend(loop, compute_type, Path(tmp) / shape / compute_type)
                if args.calibrate and backend is not loop.model:  # the loop's own model is measured above
                    calibrate(backend)
                results["runs"].append(run_engine_workloads(
                    loop, backend, engine_name, workloads, loops, args, Path(tmp) / shape / f"tm-{compute_type}"))
            del loop, backend
            if on_gpu:
                torch.cuda.empty_cache()
    return results


def run_engine_workloads(loop: LoopModel, backend, engine_name: str, workloads: dict[str, list[str]],
                         loops: dict[str, Timing], args, memory_dir: Path) -> dict:
    memory_dir.mkdir(parents=True, exist_ok=True)
    out = {"shape": loop.shape, "engine": engine_name, "parameters": loop.parameters, "workloads": {}}
    print(f"engine on {engine_name}, {loop.shape} shapes:")
    source = padded = 0
    for name, texts in workloads.items():
        engine = engine_run(backend, texts, memory_dir / f"{name}.sqlite")
        ratio = loops[name].seconds / engine.seconds
        print(f"{name}: {len(texts)} strings, {len(set(texts))} distinct; loop batches of {SIZES[name][0]}")
        print(loops[name].line("loop"))
        print(engine.line("engine"))
        print(f"  engine ÷ loop: {ratio:.2f}×")
        source, padded = source + engine.source_tokens, padded + engine.padded_tokens
        out["workloads"][name] = {"speedup": ratio, "loop": _figures(loops[name], loop, "bfloat16"),
                                  "engine": _figures(engine, loop, engine_name.split()[-1])}
    out["refresh"] = refresh(backend, args, memory_dir / "refresh.sqlite")
    speedups = {name: w["speedup"] for name, w in out["workloads"].items()}
    out["padding_fraction"] = 1 - source / padded if padded else 0.0
    out["summary"] = (f"speedup_min={min(speedups.values()):.2f} "
                      + " ".join(f"speedup_{name}={value:.2f}" for name, value in speedups.items())
                      + f" padding_fraction={out['padding_fraction']:.4f} "
                      + f"refresh_fraction={out['refresh']['fraction']:.4f}")
    print(out["summary"])
    return out


def refresh(backend, args, memory: Path) -> dict:
    """A captions file translated in full, then again with 1% new strings on the filled memory."""
    size = (REFRESH[1] if args.quick else REFRESH[0]) * min(args.scale, 10)
    new = max(1, round(size * NEW_SHARE))
    texts = captions(size, seed=1)
    known = set(texts)
    fresh = [t for t in captions(size + 2 * new, seed=2) if t not in known][:new]
    full = engine_run(backend, texts, memory)
    again = engine_run(backend, texts + fresh, memory)
    fraction = again.seconds / full.seconds
    print(f"refresh: {size} captions in {full.seconds:.1f} s ({full.batches} batches); with {len(fresh)} new "
          f"({NEW_SHARE:.0%}, {again.batches} batch{'es' if again.batches != 1 else ''}) {again.seconds:.2f} s = "
          f"{fraction:.2%} of the full run")
    return {"strings": size, "new": len(fresh), "full_seconds": full.seconds, "full_batches": full.batches,
            "refresh_seconds": again.seconds, "new_batches": again.batches, "fraction": fraction}


def _figures(timing: Timing, loop: LoopModel, compute_type: str) -> dict:
    figures = {"strings": timing.strings, "seconds": timing.seconds, "sentences_per_s": timing.sentences_per_s,
               "batches": timing.batches, "padding": timing.padding, "source_tokens": timing.source_tokens,
               "generated_tokens": timing.generated_tokens, "extrapolated_from": timing.extrapolated_from,
               "tokens_per_s": (timing.source_tokens + timing.generated_tokens) / timing.seconds}
    peak = device_peak(compute_type)
    if peak:
        figures["mfu"] = model_flops(timing, loop.parameters) / timing.seconds / peak
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer strings per workload (about 3 minutes on 2 cores)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--shapes", default="600M", help="comma-separated: 600M, 1.3B, tiny")
    parser.add_argument("--compute-types", default="auto",
                        help="the engine's CTranslate2 compute types, comma-separated (auto: int8 on CPU, bf16 on CUDA)")
    parser.add_argument("--scale", type=int, default=1, help="multiply every workload's size (the GPU run: 100)")
    parser.add_argument("--calibrate", action="store_true", help="also print the measured cost model")
    parser.add_argument("--loop-budget-s", type=float,
                        help="time the loop on its first batches only, until this many seconds, and extrapolate "
                             "to all of them (the loop's batches are alike and independent; the GPU run)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args)
    results["seconds"] = time.perf_counter() - started
    print(f"benchmark: {results['seconds']:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
