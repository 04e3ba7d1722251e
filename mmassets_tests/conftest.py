"""Test-wide settings: never reach the model hub (huggingface_hub reads this once, at import)."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
