#!/usr/bin/env python3
"""Writes tiny_pneumonia.npz, a MedMNIST-format stand-in for the SLA scorecard tests: 28×28 uint8 images,
uniform noise 60..119, with a bright 11×11 square (+80) in the middle of every pneumonia image (label 1);
one normal image in three. Train 24, val 24, test 12. Rerun to regenerate (numpy only):

    python3 Tests/DeployTests/Fixtures/make_fixtures.py
"""
import os

import numpy as np


def split(n, rng):
    labels = np.array([[0 if i % 3 == 0 else 1] for i in range(n)], dtype=np.uint8)
    images = rng.integers(60, 120, size=(n, 28, 28), dtype=np.uint8)
    images[labels[:, 0] == 1, 9:20, 9:20] += 80
    return images, labels


rng = np.random.default_rng(7)
arrays = {}
for name, n in [("train", 24), ("val", 24), ("test", 12)]:
    arrays[f"{name}_images"], arrays[f"{name}_labels"] = split(n, rng)
np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_pneumonia.npz"), **arrays)
