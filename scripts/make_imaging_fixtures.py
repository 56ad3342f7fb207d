#!/usr/bin/env python3
"""Fixtures for Tests/ImagingTests: small PNG/JPEG files, the pixels PIL decodes from them, PIL's center-crop +
resize of two sources, and hostile files.

    pip install pillow numpy
    python3 scripts/make_imaging_fixtures.py      # writes Tests/ImagingTests/Fixtures/

expected.json holds, per file, the values the Swift decoder must produce:
  - "rgb": the file's samples as PIL decodes them (mode RGB), row-major interleaved;
  - "gray": PIL's convert("L") of them (ITU-R 601-2 luma, PIL's fixed point);
  - 16-bit PNG: round(v * 255 / 65535) of the stored samples (PIL's own convert("L") of I;16 clips at 255,
    which no one wants for an X-ray, so the reference is the plain rescale, computed with numpy).
and, per resize case, PIL's img.crop(box).resize((s, s), filter) of a gray source, with box the centred
square of the short side at offset floor((W - side) / 2), floor((H - side) / 2).
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ImagingTests", "Fixtures")
rng = np.random.default_rng(20240608)
expected = {"pillow": Image.__version__, "files": {}, "resize": [], "hostile": {}}


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def smooth(h, w, channels=1):
    """Gradients plus mild noise: JPEG-friendly content with every code value region exercised."""
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(channels):
        base = 255 * (0.5 + 0.5 * np.sin(x / (w / 3.0) + c) * np.cos(y / (h / 2.5) - c))
        planes.append(np.clip(base + rng.normal(0, 6, (h, w)), 0, 255))
    return np.stack(planes, -1).astype(np.uint8).squeeze()


def record(name, data):
    img = Image.open(io.BytesIO(data))
    img.load()
    entry = {"width": img.width, "height": img.height, "mode": img.mode}
    if img.mode in ("I;16", "I;16B", "I"):
        v = np.asarray(img, dtype=np.uint32)
        entry["gray"] = np.floor(v * 255 / 65535 + 0.5).astype(np.uint8).flatten().tolist()
        entry["channels"] = 1
    else:
        gray_file = img.mode in ("1", "L", "LA")   # libpng/libjpeg return these as 1 channel, the rest as RGB
        entry["channels"] = 1 if gray_file else 3
        entry["samples"] = np.asarray(img.convert("L" if gray_file else "RGB")).flatten().tolist()
        entry["gray"] = np.asarray(img.convert("L")).flatten().tolist()
    expected["files"][name] = entry
    save(name, data)


def main():
    os.makedirs(OUT, exist_ok=True)

    # PNG: 8-bit gray, gray + alpha, RGB, RGBA, palette, 16-bit gray, 1-bit gray.
    gray = smooth(5, 7)
    record("gray8.png", encode(Image.fromarray(gray, "L"), "PNG"))
    la = np.stack([gray, rng.integers(0, 256, gray.shape, dtype=np.uint8)], -1)
    record("gray_alpha.png", encode(Image.fromarray(la, "LA"), "PNG"))
    rgb = smooth(4, 6, 3)
    record("rgb8.png", encode(Image.fromarray(rgb, "RGB"), "PNG"))
    rgba = np.concatenate([rgb, rng.integers(0, 256, rgb.shape[:2] + (1,), dtype=np.uint8)], -1)
    record("rgba8.png", encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    record("palette.png", encode(Image.fromarray(rgb, "RGB").quantize(colors=8), "PNG"))
    g16 = (rng.integers(0, 65536, (3, 5))).astype(np.uint16)
    g16[0, :3] = [0, 65535, 32768]
    record("gray16.png", encode(Image.fromarray(g16), "PNG"))
    bits = (rng.integers(0, 2, (4, 9)) * 255).astype(np.uint8)
    record("gray1.png", encode(Image.fromarray(bits, "L").convert("1"), "PNG"))

    # JPEG: gray, colour 4:2:0, progressive colour (decoded with libjpeg's defaults, as PIL does).
    record("gray.jpg", encode(Image.fromarray(smooth(16, 16), "L"), "JPEG", quality=90))
    record("rgb420.jpg", encode(Image.fromarray(smooth(16, 24, 3), "RGB"), "JPEG", quality=90, subsampling=2))
    record("progressive.jpg", encode(Image.fromarray(smooth(13, 11, 3), "RGB"), "JPEG", quality=85, progressive=True))

    # Center crop + resize, as MedMNIST did (wide and tall sources; down- and upscaling).
    wide = smooth(61, 97)
    wide[10:20, 40:50] = 255   # a hard edge, where bicubic overshoots and clipping matters
    tall = smooth(80, 45)
    save("wide.png", encode(Image.fromarray(wide, "L"), "PNG"))
    save("tall.png", encode(Image.fromarray(tall, "L"), "PNG"))
    filters = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR, "box": Image.Resampling.BOX}
    cases = [("wide.png", wide, 28, "bicubic"), ("wide.png", wide, 28, "bilinear"),
             ("wide.png", wide, 28, "box"), ("tall.png", tall, 28, "bicubic"), ("tall.png", tall, 64, "bicubic")]
    for name, src, size, f in cases:
        h, w = src.shape
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        out = Image.fromarray(src, "L").crop((left, top, left + side, top + side)).resize((size, size), filters[f])
        expected["resize"].append({"source": name, "size": size, "filter": f, "crop": [left, top, side],
                                   "pixels": np.asarray(out).flatten().tolist()})

    # Hostile files.
    noise_png = encode(Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L"), "PNG")
    save("truncated.png", noise_png[: len(noise_png) * 6 // 10])
    noise_jpg = encode(Image.fromarray(smooth(32, 32, 3), "RGB"), "JPEG", quality=95)
    save("truncated.jpg", noise_jpg[: len(noise_jpg) * 6 // 10])
    save("random.bin", rng.integers(0, 256, 64, dtype=np.uint8).tobytes())
    save("signature_then_noise.png", b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 64, dtype=np.uint8).tobytes())
    save("empty.png", b"")
    save("huge.png", png_with_header(100_000, 100_000))
    save("zero_width.png", png_with_header(0, 16))
    save("huge.jpg", jpeg_with_size(encode(Image.fromarray(smooth(8, 8), "L"), "JPEG"), 60_000, 60_000))
    save("cmyk.jpg", encode(Image.fromarray(smooth(8, 8, 4), "CMYK"), "JPEG"))
    save("bad_crc.png", corrupt_idat_crc(encode(Image.fromarray(gray, "L"), "PNG")))

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_header(width, height):
    """A PNG whose IHDR (valid CRC) claims width × height 8-bit gray, with one tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def corrupt_idat_crc(png):
    """Flips the last byte of the IDAT chunk's CRC (libpng rejects a bad CRC in a critical chunk)."""
    i = png.index(b"IDAT")
    length = struct.unpack(">I", png[i - 4:i])[0]
    end = i + 4 + length + 4
    return png[:end - 1] + bytes([png[end - 1] ^ 0xFF]) + png[end:]


def jpeg_with_size(jpeg, width, height):
    """Rewrites the SOF0 frame header's height and width."""
    i = jpeg.index(b"\xff\xc0")
    return jpeg[:i + 5] + struct.pack(">HH", height, width) + jpeg[i + 9:]


if __name__ == "__main__":
    main()
