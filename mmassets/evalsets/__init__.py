"""Evaluation sets: eval records (``label`` empty, ``text_label`` the reference) and reference files."""
