"""One module per dataset family, each holding that dataset's whole path from raw to train: its raw
asset(s), English task records, translated language partitions and train files. Every module here
is loaded by ``mmassets.definitions``; the shared factories and helpers are in ``defs.common``."""
