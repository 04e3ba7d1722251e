"""Translation throughput: the engine against the plain loop, on NLLB-200-distilled-600M shapes.

    python benchmarks/translate_throughput.py [--quick] [--strings N] [--device auto] [--ct2]

Model: the NLLB-200-distilled-600M architecture (d_model 1024, 12+12 layers, 16 heads, FFN 4096,
vocabulary 256,206) with random weights, built locally: speed depends on shapes, not weight values.
Output length is pinned (each batch generates exactly 1.1x its longest source), so random weights
cannot distort timings by stopping early or never. The quality gate is off: it judges meaningless
random output.

Workload: a seeded mix of short VQA-style questions with VQAv2's repetition (about 37% distinct),
8-25-word captions and 30-150-word conversational answers.

Baseline, same process, model and settings: batches of 256 in input order, padded to the longest,
no dedup, no memory. Engine: dedup, memory, length-sorted token-budget batches. Refresh: the same
workload plus 1% new strings, on the engine's filled memory, as a fraction of the engine's time.
The last line is for scripts: speedup_vs_baseline=<x> padding_fraction=<y> refresh_fraction=<z>
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from mmassets.translation.backend import GenerationSettings  # noqa: E402
from mmassets.translation.engine import TranslationEngine, TranslationStats  # noqa: E402
from mmassets.translation.memory import TranslationMemory  # noqa: E402

SRC, TGT = "eng_Latn", "deu_Latn"
SETTINGS = GenerationSettings(fixed_length_ratio=1.1)
NLLB_600M = dict(vocab_size=256_206, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                 decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024,
                 scale_embedding=True, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2)

SUBJECTS = "man woman dog cat child bus train pizza player bird horse girl boy table sign kite".split()
COLORS = "red blue green white black yellow brown orange".split()
QUESTION_FORMS = ["What color is the {s}?", "Is the {s} {c}?", "How many {s}s are there?", "Is there a {s}?",
                  "What is the {s} doing?", "Where is the {s}?", "Is this a {s}?", "What is on the {s}?"]
FILLER = ("the image shows a scene where a {c} {s} is standing near the {s2} while people walk by and "
          "the light comes from the left side of the picture and there are trees in the background").split()


def workload(n: int, seed: int = 0, max_answer_words: int = 150) -> list[str]:
    """Half VQA questions drawn from a pool so ~37% are distinct, 35% captions, 15% long answers
    (30 to ``max_answer_words`` words)."""
    rng = random.Random(seed)
    n_q, n_c = n // 2, int(n * 0.35)
    pool = [rng.choice(QUESTION_FORMS).format(s=rng.choice(SUBJECTS), c=rng.choice(COLORS))
            for _ in range(max(1, int(n_q * 0.37)))]
    questions = pool + [rng.choice(pool) for _ in range(n_q - len(pool))]

    def words(k: int) -> str:
        out = [w.format(c=rng.choice(COLORS), s=rng.choice(SUBJECTS), s2=rng.choice(SUBJECTS))
               for w in (FILLER * (k // len(FILLER) + 1))[:k]]
        rng.shuffle(out)
        return " ".join(out).capitalize() + "."

    captions = [words(rng.randint(8, 25)) for _ in range(n_c)]
    answers = [words(rng.randint(30, max_answer_words)) for _ in range(n - n_q - n_c)]
    texts = questions + captions + answers
    rng.shuffle(texts)
    return texts


def build_model(device: str):
    import torch
    from transformers import AutoTokenizer, M2M100Config, M2M100ForConditionalGeneration

    from mmassets.translation.nllb import NLLBModel, resolve_device, resolve_dtype
    from mmassets.translation.tiny_model import build_tiny_nllb

    tokenizer_dir = build_tiny_nllb(Path(tempfile.gettempdir()) / "mmassets-bench-tokenizer", [SRC, TGT])
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    device = resolve_device(device)
    dtype = resolve_dtype("auto", device)
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(M2M100Config(**NLLB_600M)).to(device=device, dtype=dtype).eval()
    return NLLBModel(tokenizer, model, name="nllb-600m-shapes-random", revision="bench", device=device, dtype=dtype)


def baseline(model, texts: list[str]) -> TranslationStats:
    """The plain loop: batches of 256 in input order, padded to the longest, every string translated."""
    stats = TranslationStats(strings=len(texts), distinct=len(texts))
    lengths = model.token_lengths(texts, SRC)
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        model.translate_batch(texts[start:start + 256], SRC, TGT, SETTINGS)
        batch = lengths[start:start + 256]
        stats.batches += 1
        stats.source_tokens += sum(batch)
        stats.padded_tokens += max(batch) * len(batch)
    stats.seconds = time.perf_counter() - started
    stats.model_translated = len(texts)
    return stats


def run_engine(model, texts: list[str], memory_path: Path, token_budget: int | None) -> tuple[TranslationStats, float]:
    engine = TranslationEngine(model, TranslationMemory(memory_path), settings=SETTINGS, token_budget=token_budget,
                               check=lambda source, translation, target: None)
    started = time.perf_counter()
    stats = engine.translate(texts, SRC, TGT).stats
    return stats, time.perf_counter() - started


def line(name: str, n: int, seconds: float, stats: TranslationStats) -> str:
    return (f"{name:<24} {n / seconds:8.2f} sentences/s {stats.source_tokens / seconds:9.1f} tokens/s  "
            f"padding {stats.padding_fraction:6.1%}  ({seconds:.1f} s, {stats.batches} batches, "
            f"{stats.model_translated} model-translated, {stats.memory_hits} from memory)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="12 strings with answers of at most 60 words: under two minutes on CPU")
    parser.add_argument("--strings", type=int, help="workload size (default: 48 on CPU, 12 with --quick, 4000 on GPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--token-budget", type=int, help="default: the engine's (1,024 on CPU, 16,384 on GPU)")
    parser.add_argument("--ct2", action="store_true", help="also time the CTranslate2 backend (pip install .[ct2])")
    args = parser.parse_args(argv)

    import torch

    on_gpu = args.device != "cpu" and torch.cuda.is_available()
    n = args.strings or (4000 if on_gpu else 12 if args.quick else 48)
    max_answer_words = 60 if args.quick else 150
    texts = workload(n, max_answer_words=max_answer_words)
    print(f"device: {'cuda ' + torch.cuda.get_device_name() if on_gpu else f'cpu ({torch.get_num_threads()} threads)'}; "
          f"torch {torch.__version__}; {n} strings, {len(set(texts))} distinct, answers up to {max_answer_words} words")
    started = time.perf_counter()
    model = build_model("cuda" if on_gpu else "cpu")
    print(f"model: NLLB-200-distilled-600M shapes, random weights, {model.dtype}, built in {time.perf_counter() - started:.1f} s")

    base = baseline(model, texts)
    print(line("baseline (256, in order)", n, base.seconds, base))
    with tempfile.TemporaryDirectory() as tmp:
        memory = Path(tmp) / "tm.sqlite"
        engine, engine_s = run_engine(model, texts, memory, args.token_budget)
        print(line("engine", n, engine_s, engine))
        fresh = [t for t in workload(n, 1, max_answer_words) if t not in set(texts)][: max(1, n // 100)]
        refresh, refresh_s = run_engine(model, texts + fresh, memory, args.token_budget)
        print(line(f"refresh (+{len(fresh)} new)", n + len(fresh), refresh_s, refresh)
              + f"  [new strings: {len(fresh) / n:.1%} of the workload]")
        if args.ct2:
            compare_ct2(texts, Path(tmp), model, args.token_budget, engine_s)

    planned = planned_padding(model, 4000, args.token_budget)
    print(f"planned padding of the engine's batches for a 4000-string workload: {planned:.1%} "
          f"(computed from token lengths, nothing translated)")
    speedup = base.seconds / engine_s
    refresh_fraction = refresh_s / engine_s
    print(f"engine vs baseline: {speedup:.2f}x sentences/s; refresh takes {refresh_fraction:.2%} of a full run")
    print(f"speedup_vs_baseline={speedup:.2f} padding_fraction={engine.padding_fraction:.4f} "
          f"refresh_fraction={refresh_fraction:.4f}")
    return 0


def planned_padding(model, n: int, token_budget: int | None) -> float:
    """Padding of the engine's batch plan for an ``n``-string workload, without translating it."""
    from mmassets.translation.engine import auto_token_budget, plan_batches

    lengths = model.token_lengths(list(dict.fromkeys(workload(n))), SRC)
    batches = plan_batches(lengths, token_budget or auto_token_budget(model.device), 256)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1 - sum(lengths) / padded


def compare_ct2(texts, tmp: Path, model, token_budget: int | None, engine_s: float) -> None:
    try:
        from mmassets.translation import ct2
    except ImportError:
        print("ctranslate2: not installed (pip install .[ct2])")
        return
    folder = tmp / "nllb-600m-shapes"
    model.model.save_pretrained(folder)
    model.tokenizer.save_pretrained(folder)
    started = time.perf_counter()
    backend = ct2.CT2Model.load(str(folder), device=model.device, cache_dir=str(tmp))
    print(f"ctranslate2: converted in {time.perf_counter() - started:.1f} s ({backend.identity.split(':')[1]})")
    stats, seconds = run_engine(backend, texts, tmp / "tm-ct2.sqlite", token_budget)
    print(line("engine on ctranslate2", len(texts), seconds, stats))
    print(f"ctranslate2 vs transformers (engine): {engine_s / seconds:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
