"""DataOptim's converters read image headers (Shikra-RD's and SVIT's boxes need each image's size)
through the one safe opener (issue 30): a FIFO named like an image hung `dataoptim/shikra` for ever;
now the build ends, and the asset fails naming the file and what it is."""

import os
import shutil

import pytest

from builds import finish, start_build

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


def test_a_fifo_named_like_an_image_fails_dataoptim_shikra_naming_it_and_never_hangs(sample_raw, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    image = raw / "flickr30k/images/1000092795.jpg"  # the first Shikra-RD record's picture
    image.unlink()
    os.mkfifo(image)
    process = start_build(tmp_path / "data", "--profile", "production", "--raw-dir", str(raw),
                          "--select", '+key:"dataoptim/shikra"')
    out = finish(process, timeout=420, what="the build hung on a FIFO named like an image")
    assert process.returncode == 1, out
    assert ("dataoptim/shikra: ValueError: dataoptim/shikra: image 'flickr30k/1000092795.jpg' has no readable size, "
            f"which its boxes need: {image}: a FIFO (named pipe), not a regular file; refused unopened") in out, out
    assert not (tmp_path / "data/exports/dataoptim/shikra.json").exists()
