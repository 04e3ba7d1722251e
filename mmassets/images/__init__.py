"""Images: download (httpx, async, resumable per URL), decode and resize (mBLIP's rule and
img2dataset's modes), verify. Pure logic: no Dagster here."""
