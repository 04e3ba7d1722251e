"""DataOptim (BAAI-DCAI/DataOptim): its visual-instruction datasets rebuilt from their upstream
releases as LLaVA conversation records, with DataOptim's prompts, ids and image folders, and its
submission files (id lists, or whole LLaVA files) turned into training data.

- ``boxes``: grounding boxes as DataOptim writes them (normalised by the original image size,
  three decimals, ``[0.0, 0.106, 0.827, 1.0]``) and the expand-to-square variant;
- ``templates``: Shikra's REC and REG question templates (package data, ``reference/shikra/``);
- ``convert``: one converter per source, upstream rows → records;
- ``submissions``: the standard (ids) and BYOD (full file) settings.

Nothing here imports Dagster.
"""
