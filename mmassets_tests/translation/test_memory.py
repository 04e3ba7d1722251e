"""The SQLite translation memory: keys, batches, several processes at once."""

import multiprocessing

from mmassets.translation.memory import Entry, MemoryKey, TranslationMemory

KEY = MemoryKey("model@main", "eng_Latn", "deu_Latn", '{"num_beams": 1}')


def test_entries_round_trip_by_full_key(tmp_path):
    memory = TranslationMemory(tmp_path / "tm.sqlite")
    memory.put_many(KEY, [("A dog.", Entry("Ein Hund.", None)), ("Loop", Entry("la la la", "repetition"))])
    assert memory.get_many(KEY, ["A dog.", "Loop", "unknown"]) == {
        "A dog.": Entry("Ein Hund.", None), "Loop": Entry("la la la", "repetition")}
    for other in (MemoryKey("model@v2", KEY.src, KEY.tgt, KEY.settings),
                  MemoryKey(KEY.model, KEY.src, "fra_Latn", KEY.settings),
                  MemoryKey(KEY.model, KEY.src, KEY.tgt, '{"num_beams": 4}')):
        assert memory.get_many(other, ["A dog."]) == {}
    assert memory.count() == 2 and memory.count(KEY) == 2


def test_lookups_larger_than_one_sql_statement(tmp_path):
    memory = TranslationMemory(tmp_path / "tm.sqlite")
    entries = [(f"sentence {i}", Entry(f"Satz {i}", None)) for i in range(2_345)]
    memory.put_many(KEY, entries)
    found = memory.get_many(KEY, [s for s, _ in entries] + ["missing"])
    assert len(found) == 2_345 and found["sentence 2000"].translation == "Satz 2000"


def _writer(path: str, worker: int) -> None:
    memory = TranslationMemory(path)
    for batch in range(20):
        memory.put_many(KEY, [(f"w{worker} b{batch} s{i}", Entry(f"t{i}", None)) for i in range(25)])


def test_several_processes_share_one_memory(tmp_path):
    path = str(tmp_path / "tm.sqlite")
    TranslationMemory(path)  # create the schema once
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(path, w)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0]
    assert TranslationMemory(path).count(KEY) == 3 * 20 * 25
