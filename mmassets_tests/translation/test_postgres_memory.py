"""The translation memory in a real PostgreSQL server: the SQLite memory's behaviour, shared by
processes that never see each other's files."""

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("psycopg2", reason="pip install 'mmassets[postgres]' (make install does)")

from servers import postgres_server  # noqa: E402

from mmassets.translation.memory import Entry, MemoryKey, TranslationMemory, open_memory  # noqa: E402
from mmassets.translation.postgres_memory import PostgresTranslationMemory  # noqa: E402

KEY = MemoryKey("model@1", "eng_Latn", "deu_Latn", "beams=1")


@pytest.fixture(scope="module")
def url():
    with postgres_server() as running:
        yield running


def test_it_keeps_what_the_sqlite_memory_keeps(url, tmp_path):
    long_text = "A very long answer. " * 400  # 8,000 characters: longer than a B-tree entry may be
    batch = [("A dog.", Entry("Ein Hund.", None)), (long_text, Entry("Eine lange Antwort.", None)),
             ("Loop loop loop.", Entry("Loop loop loop loop.", "repetition"))]
    other_key = MemoryKey("model@1", "eng_Latn", "fra_Latn", "beams=1")
    stores = [open_memory(url), TranslationMemory(tmp_path / "tm.sqlite")]
    assert isinstance(stores[0], PostgresTranslationMemory)
    seen = []
    for store in stores:
        assert store.put_many(KEY, batch, tokens=(150, 180)) == dict(batch)
        # the first translation stored is kept, and handed back to whoever stores another
        assert store.put_many(KEY, [("A dog.", Entry("Ein Hund!", None))], tokens=(60, 90)) == {
            "A dog.": Entry("Ein Hund.", None)}
        seen.append((store.get_many(KEY, ["A dog.", long_text, "Loop loop loop.", "unknown"]),
                     store.get_many(other_key, ["A dog."]), store.length_ratio(KEY), store.count(KEY), store.count()))
        store.close()
    assert seen[0] == seen[1]
    found, other, ratio, count, total = seen[0]
    assert found == {"A dog.": Entry("Ein Hund.", None), long_text: Entry("Eine lange Antwort.", None),
                     "Loop loop loop.": Entry("Loop loop loop loop.", "repetition")}
    assert other == {} and ratio == pytest.approx(270 / 210) and count == total == 3


def test_a_second_process_is_served_what_the_first_translated(url):
    """Two processes (two machines, as far as the memory can tell): the second one's engine calls no model."""
    script = textwrap.dedent(f"""
        import json, sys
        from mmassets.translation.engine import TranslationEngine
        from mmassets.translation.memory import open_memory

        class Echo:  # a backend that translates by upper-casing, counting its calls
            identity, device, calls = "echo@1", "cpu", 0
            def lang_token_id(self, code): return 0
            def token_lengths(self, texts, src): return [len(t.split()) + 2 for t in texts]
            def translate_batch(self, texts, src, tgt, settings):
                Echo.calls += len(texts)
                return [t.upper() for t in texts]

        engine = TranslationEngine(Echo(), open_memory({url!r}), check=lambda s, t, g: None)
        texts = ["A dog runs. A cat sits.", "A red kite.", "A red kite.", sys.argv[1]]
        result = engine.translate(texts, "eng_Latn", "deu_Latn")
        print(json.dumps({{"texts": result.texts, "model_calls": Echo.calls}}))
    """)

    def run(extra: str) -> dict:
        done = subprocess.run([sys.executable, "-c", script, extra], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.splitlines()[-1])

    first = run("Something new.")
    second = run("Something else.")
    assert first["model_calls"] == 4  # three sentences and a caption, each once
    assert second["model_calls"] == 1  # only its own new string
    assert first["texts"][:3] == second["texts"][:3] == ["A DOG RUNS. A CAT SITS.", "A RED KITE.", "A RED KITE."]


def test_a_bad_url_says_which_server_and_hides_the_password():
    with pytest.raises(RuntimeError, match=r"translation memory postgresql://me:\*\*\*@127\.0\.0\.1:1/x: cannot connect"):
        PostgresTranslationMemory("postgresql://me:secret@127.0.0.1:1/x", timeout_s=2)


def test_the_setting_reaches_the_translator(url, tmp_path):
    from mmassets.definitions import build_definitions
    from mmassets.settings import Settings

    settings = Settings.from_env({"MMASSETS_TRANSLATION_MEMORY": url, "MMASSETS_DATA_DIR": str(tmp_path / "data")})
    assert settings.as_env()["MMASSETS_TRANSLATION_MEMORY"] == url
    translator = build_definitions(settings).resources["translator"]
    assert translator.memory_path == url
    assert isinstance(open_memory(translator.memory_path), PostgresTranslationMemory)
