"""Reading pickles that must hold plain data only, without letting them run code.

``pickle.load`` runs whatever a pickle asks for: a pickle can name any importable function
(``os.system``, ``builtins.eval``) and have it called while loading. ``load_plain_pickle`` refuses
every global, so a pickle can build nothing but what the pickle protocol itself makes: ``None``,
booleans, ints, floats, strings, bytes, lists, tuples, dicts (and sets/frozensets of protocol 4 and
up). That is exactly what the pickles mmassets reads are made of: VILA's shards (lists of dicts,
``mmassets.vila.shards``) and refer's ``refs(<split_by>).p`` (a list of ref dicts,
``mmassets.sources.refcoco``). Any request for a class or function (``find_class``, reached by the
GLOBAL, STACK_GLOBAL and EXT opcodes) raises ``UnsafePickle`` naming ``module.name`` and the file,
before anything is called. Persistent ids are refused by the plain ``Unpickler`` already.

Python 2 pickles (protocols 0–2, as refer's files were written by cPickle) load too. Their
``unicode`` values come back as ``str``; their byte strings (Python 2 ``str``) are decoded as UTF-8
(which is ASCII's superset, so an ASCII-only file reads as Python 3's default would), and only where
some byte string is not UTF-8 is the whole file decoded again as latin-1, which maps every byte to
one character and so never fails (the bytes can be had back with ``.encode("latin-1")``). Which of
these refer's files need is unverified: refer's python3 branch loads them with the default
(ASCII) decoding, so their byte strings are presumably ASCII.
"""

from __future__ import annotations

import pickle
from pathlib import Path

__all__ = ["UnsafePickle", "load_plain_pickle"]

_UNREADABLE = (pickle.UnpicklingError, EOFError, ValueError, IndexError, KeyError, TypeError, AttributeError,
               OverflowError, MemoryError, RecursionError)


class UnsafePickle(pickle.UnpicklingError):
    """A pickle that asks to load a class or function: refused, since loading it could run code."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise UnsafePickle(f"refusing to load {module}.{name}: only plain data (lists, dicts, strings, bytes, "
                           "numbers) is read from a pickle, never a class or function")


def load_plain_pickle(path: str | Path) -> object:
    """The value pickled in ``path``, refusing any class or function (``UnsafePickle``, naming the
    global asked for and the file); a file that is not a readable pickle raises
    ``pickle.UnpicklingError`` naming the file. Python 2 byte strings: see the module docstring.
    The file is read from disk as it is unpickled (a second time only for the latin-1 retry)."""
    with (open(path, "rb") if isinstance(path, (str, Path)) else path.open("rb")) as handle:  # or a store's UPath
        try:
            try:
                return _PlainUnpickler(handle, encoding="utf-8").load()
            except UnicodeDecodeError:
                handle.seek(0)
                return _PlainUnpickler(handle, encoding="latin-1").load()
        except UnsafePickle as exc:
            raise UnsafePickle(f"{path}: {exc}") from None
        except _UNREADABLE as exc:
            raise pickle.UnpicklingError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None
