"""Machine translation of captions: the NLLB backend and a tiny offline NLLB-shaped model for tests."""
