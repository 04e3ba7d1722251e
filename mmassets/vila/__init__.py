"""VILA's data formats (NVlabs VILA and llm-jp's Japanese VILA): pickle shards with ``.count``
files (``shards``), read back only through a restricted unpickler."""
