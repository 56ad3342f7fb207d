#!/usr/bin/env python3
"""Writes the small .npz/.npy fixtures that Tests/DataTests reads (Tests/DataTests/Fixtures/).

Run from the package root:  python3 scripts/make_data_fixtures.py
Needs numpy (tested with 2.x). The values are closed-form so the Swift tests can state them:

  tiny_savez.npz             np.savez (stored members), a MedMNIST-shaped task with 2 classes:
  tiny_savez_compressed.npz  np.savez_compressed (deflated members), same arrays:
      train_images uint8 [6, 4, 4]   value (17 * n + 3 * y + x) % 256 at [n, y, x]
      train_labels uint8 [6, 1]      [0, 1, 1, 0, 1, 1]
      val_images   uint8 [2, 4, 4]   255 - the same formula
      val_labels   uint8 [2, 1]      [1, 0]
      (no test split: a missing split must be an error only when asked for)
  dtypes.npz                 np.savez_compressed of one array per supported dtype, each arange(6) reshaped to
                             (2, 3): u1, i4, i8, f4, f8 (keys = the dtype names), plus
                             fortran = arange(6, dtype='<f8').reshape(2, 3, order='F') stored Fortran-ordered
                             and big = arange(6, dtype='>i4') (big-endian)
  v2_f4.npy, v3_f4.npy       arange(6, dtype='<f4').reshape(3, 2) with .npy format versions 2.0 and 3.0
  saved_f4_2x3.npy           np.save of arange(6, dtype='<f4').reshape(2, 3) / 4: NPYWriter must match byte for byte
  saved_f4_1d.npy            np.save of array([1.5, -2.0], dtype='<f4') (a 1-tuple shape is written "(2,)")
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "DataTests", "Fixtures")


def tiny_task():
    n, y, x = np.meshgrid(np.arange(6), np.arange(4), np.arange(4), indexing="ij")
    train_images = ((17 * n + 3 * y + x) % 256).astype(np.uint8)
    val_images = (255 - train_images[:2]).astype(np.uint8)
    return dict(
        train_images=train_images,
        train_labels=np.array([[0], [1], [1], [0], [1], [1]], dtype=np.uint8),
        val_images=val_images,
        val_labels=np.array([[1], [0]], dtype=np.uint8),
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "tiny_savez.npz"), **tiny_task())
    np.savez_compressed(os.path.join(OUT, "tiny_savez_compressed.npz"), **tiny_task())

    base = np.arange(6).reshape(2, 3)
    arrays = {name: base.astype(name) for name in ["u1", "i4", "i8", "f4", "f8"]}
    arrays["fortran"] = np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))
    arrays["big"] = np.arange(6, dtype=">i4")
    np.savez_compressed(os.path.join(OUT, "dtypes.npz"), **arrays)

    a = np.arange(6, dtype="<f4").reshape(3, 2)
    for version in [(2, 0), (3, 0)]:
        with open(os.path.join(OUT, f"v{version[0]}_f4.npy"), "wb") as f:
            np.lib.format.write_array(f, a, version=version)

    np.save(os.path.join(OUT, "saved_f4_2x3.npy"), np.arange(6, dtype="<f4").reshape(2, 3) / np.float32(4))
    np.save(os.path.join(OUT, "saved_f4_1d.npy"), np.array([1.5, -2.0], dtype="<f4"))


if __name__ == "__main__":
    main()
