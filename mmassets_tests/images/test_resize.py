"""Decoding and resizing: mBLIP's rule on real Pillow images, img2dataset's modes, hostile bodies."""

import io
import struct
import zlib

import pytest
from PIL import Image

from mmassets.images.resize import ImageRejected, ResizeSettings, resize_image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def decoded(resized) -> Image.Image:
    image = Image.open(io.BytesIO(resized.jpeg))
    assert image.format == "JPEG"
    return image


def test_a_larger_image_is_shrunk_to_256_and_padded_white_centred():
    red = Image.new("RGB", (800, 400), (200, 0, 0))
    out = resize_image(encode(red))
    image = decoded(out)
    assert (out.width, out.height, out.original_width, out.original_height) == (256, 256, 800, 400)
    assert image.size == (256, 256) and image.mode == "RGB"
    top, middle, bottom = image.getpixel((128, 10)), image.getpixel((128, 128)), image.getpixel((128, 250))
    assert min(top) > 240 and min(bottom) > 240  # white bands above and below the 256x128 picture
    assert middle[0] > 180 and middle[1] < 40


def test_a_smaller_image_is_kept_as_it_is():
    out = resize_image(encode(Image.new("RGB", (200, 120), (0, 90, 200))))
    assert (out.width, out.height) == (200, 120) and decoded(out).size == (200, 120)


def test_alpha_is_composited_on_white_and_grey_stays_grey():
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (0, 0, 50, 100))
    image = decoded(resize_image(encode(rgba, "PNG")))
    assert image.mode == "RGB" and min(image.getpixel((90, 50))) > 245 and max(image.getpixel((10, 50))) < 10
    grey = decoded(resize_image(encode(Image.new("L", (600, 300), 100))))
    assert grey.mode == "L" and grey.size == (256, 256) and grey.getpixel((128, 5)) > 245
    la = Image.new("LA", (40, 40), (0, 0))
    assert decoded(resize_image(encode(la, "PNG"))).getpixel((20, 20)) > 245
    palette = Image.new("P", (30, 30), 0)
    palette.info["transparency"] = 0
    assert min(decoded(resize_image(encode(palette, "PNG", transparency=0))).convert("RGB").getpixel((5, 5))) > 245


@pytest.mark.parametrize("mode, size, expected", [
    ("keep_ratio", (800, 400), (256, 128)),
    ("keep_ratio", (100, 50), (100, 50)),
    ("border", (100, 50), (256, 256)),
    ("center_crop", (800, 400), (256, 256)),
    ("center_crop", (100, 300), (256, 256)),
    ("no", (800, 400), (800, 400)),
])
def test_img2dataset_modes(mode, size, expected):
    out = resize_image(encode(Image.new("RGB", size, (10, 200, 10))), ResizeSettings(mode=mode))
    assert (out.width, out.height) == expected == decoded(out).size


def test_a_large_jpeg_decodes_at_reduced_size_with_the_same_result_size():
    big = Image.new("RGB", (1600, 1200), (120, 60, 30))
    out = resize_image(encode(big))
    assert (out.width, out.height, out.original_width, out.original_height) == (256, 256, 1600, 1200)
    pixel = decoded(out).getpixel((128, 128))
    assert abs(pixel[0] - 120) < 8 and abs(pixel[1] - 60) < 8


def test_exif_orientation_is_ignored_as_mblip_does_unless_asked():
    image = Image.new("RGB", (300, 100), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    body = encode(image, exif=exif.tobytes())
    assert (resize_image(body).width, resize_image(body).height) == (256, 256)
    plain = decoded(resize_image(body, ResizeSettings(mode="keep_ratio")))
    turned = decoded(resize_image(body, ResizeSettings(mode="keep_ratio", exif_transpose=True)))
    assert plain.size == (256, 85) and turned.size == (85, 256)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("body, reason", [
    (b"", "empty body"),
    (b"<html>not found</html>", "not an image"),
    (encode(Image.effect_noise((400, 300), 60).convert("RGB"))[:6000], "truncated or corrupt"),
    (_png_header_only(30000, 30000), "decompression bomb"),
])
def test_hostile_bodies_are_refused_with_the_reason(body, reason):
    with pytest.raises(ImageRejected, match=reason):
        resize_image(body)


def test_the_pixel_limit_is_a_setting():
    body = encode(Image.new("RGB", (300, 300)))
    with pytest.raises(ImageRejected, match="over the 10,000-pixel limit"):
        resize_image(body, ResizeSettings(max_pixels=10_000))
    with pytest.raises(ValueError, match="unknown resize mode"):
        ResizeSettings(mode="stretch")


@pytest.mark.parametrize("size, expected", [((1000, 500), (672, 336)), ((500, 1001), (336, 672)), ((336, 900), (336, 900)),
                                            ((2400, 1800), (448, 336))])
def test_vilas_rule_shrinks_the_short_side_to_336_when_larger(size, expected):
    settings = ResizeSettings(mode="vila", size=336, quality=75)
    out = resize_image(encode(Image.new("RGB", size, (10, 200, 30)), "JPEG"), settings)
    assert (out.width, out.height) == expected and decoded(out).mode == "RGB"


def test_vilas_rule_drops_alpha_and_makes_grey_rgb_as_pillows_convert_does():
    settings = ResizeSettings(mode="vila", size=336)
    rgba = Image.new("RGBA", (40, 30), (200, 10, 10, 0))  # fully transparent red: VILA keeps the red
    assert decoded(resize_image(encode(rgba, "PNG"), settings)).getpixel((5, 5))[0] > 180
    assert decoded(resize_image(encode(Image.new("L", (40, 30), 90), "PNG"), settings)).mode == "RGB"


def test_rgb_mode_converts_as_llm_jp_does_without_resizing():
    out = resize_image(encode(Image.new("L", (900, 700), 90), "PNG"), ResizeSettings(mode="rgb", quality=75))
    assert (out.width, out.height) == (900, 700) and decoded(out).mode == "RGB"


def _picture(size: tuple[int, int]) -> Image.Image:
    """A photo-like picture (a gradient with noise), so JPEG and PNG encode real content."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    return Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))


# what each mode promises for a 1600x1200 picture, and for a 702x675 one (whose JPEG, decoded at half
# scale, used to round to another size: keep_ratio 256x247, vila 348x336 — smaller than promised)
PROMISED = [
    ("mblip", 256, (1600, 1200), (256, 256)), ("mblip", 256, (702, 675), (256, 256)),
    ("border", 256, (1600, 1200), (256, 256)), ("border", 256, (702, 675), (256, 256)),
    ("keep_ratio", 256, (1600, 1200), (256, 192)), ("keep_ratio", 256, (702, 675), (256, 246)),
    ("center_crop", 256, (1600, 1200), (256, 256)), ("center_crop", 256, (702, 675), (256, 256)),
    ("no", 256, (1600, 1200), (1600, 1200)), ("no", 256, (702, 675), (702, 675)),
    ("vila", 336, (1600, 1200), (448, 336)), ("vila", 336, (702, 675), (349, 336)),
    ("rgb", 336, (1600, 1200), (1600, 1200)), ("rgb", 336, (702, 675), (702, 675)),
]


@pytest.mark.parametrize("mode, size, picture, expected", PROMISED)
def test_every_mode_gives_the_size_it_promises_for_a_large_jpeg_and_the_same_picture_as_png(mode, size, picture,
                                                                                             expected):
    """Issue 30: ``rgb`` ("RGB, JPEG, not resized") stored a 1600x1200 JPEG as 400x300 (JPEG draft
    decoding in every mode but ``no``) while the PNG kept its size; and where draft decoding is right
    (the modes that shrink), sizes computed from the reduced image could round below the promise."""
    from mmassets.images.resize import output_size

    assert output_size(mode, size, *picture) == expected
    image = _picture(picture)
    for fmt in ("JPEG", "PNG"):
        out = resize_image(encode(image, fmt), ResizeSettings(mode=mode, size=size))
        assert (out.width, out.height) == expected == decoded(out).size, (fmt, mode)
        assert (out.original_width, out.original_height) == picture


def test_rgb_keeps_a_large_jpegs_pixels_not_a_reduced_decode():
    """Not resized means every pixel: a one-pixel line in a 1600x1200 JPEG survives."""
    image = Image.new("RGB", (1600, 1200), (0, 0, 0))
    image.paste((255, 255, 255), (0, 601, 1600, 602))
    out = decoded(resize_image(encode(image, quality=100), ResizeSettings(mode="rgb", quality=100)))
    column = [out.getpixel((800, y))[0] for y in range(598, 606)]
    assert max(column) > 200 and column.index(max(column)) == 3, column


def test_a_draft_that_would_decode_below_the_output_size_is_not_used(monkeypatch):
    """Draft decoding may only pick a scale that leaves at least the output's pixels: were Pillow to
    choose 1/8 (200x150 of a 1600x1200 JPEG, below keep_ratio's 256x192), the image is decoded whole."""
    from PIL import JpegImagePlugin

    from mmassets.images import resize

    real = JpegImagePlugin.JpegImageFile.draft
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft",
                        lambda self, mode, size: real(self, mode, (self.size[0] // 8, self.size[1] // 8)))
    seen, reshape = [], resize.reshape
    monkeypatch.setattr(resize, "reshape", lambda image, *args: seen.append(image.size) or reshape(image, *args))
    out = resize_image(encode(_picture((1600, 1200))), ResizeSettings(mode="keep_ratio"))
    assert (out.width, out.height) == (256, 192) and seen == [(1600, 1200)]
    resize_image(encode(_picture((1600, 1200))), ResizeSettings(mode="keep_ratio", size=100))
    assert seen[-1] == (200, 150)  # 1/8 leaves 200x150 >= 100x75: the reduced decode is used
