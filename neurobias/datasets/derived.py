"""Tasks derived from a data set: new labels (parity, magnitude) or transformed inputs (rotation, permutation).

These give the several tasks that one random network solves with one bias
vector each in the multi-task experiment of Williams et al. (2024); the
paper used seven image data sets, which are not available offline here.
"""
from __future__ import annotations

import numpy as np

from neurobias.datasets.base import Split
from neurobias.errors import InputError, check_choice

__all__ = ["parity", "magnitude", "rotated", "permuted", "pad_features", "DERIVATIONS", "derive"]


def _relabel(split: Split, name: str, fn) -> Split:
    return Split.make(name=name, x_train=split.x_train, y_train=fn(split.y_train), x_test=split.x_test,
                      y_test=fn(split.y_test), n_classes=2)


def parity(split: Split) -> Split:
    """Odd or even digit: label ``y % 2`` (two classes), same inputs. Name ``<name>-parity``."""
    return _relabel(split, f"{split.name}-parity", lambda y: y % 2)


def magnitude(split: Split, *, threshold: int = 5) -> Split:
    """Digit at least ``threshold``: label ``int(y >= threshold)`` (two classes). Name ``<name>-magnitude``."""
    if not 0 < threshold < split.n_classes:
        raise InputError(f"`threshold` must lie in (0, n_classes = {split.n_classes}); got {threshold!r}")
    return _relabel(split, f"{split.name}-magnitude", lambda y: (y >= threshold).astype(np.int64))


def rotated(split: Split, *, image_shape: tuple[int, int] = (8, 8), quarter_turns: int = 1) -> Split:
    """Images rotated by ``quarter_turns`` x 90 degrees counter-clockwise, same labels. Name ``<name>-rotated``.

    Parameters
    ----------
    split : Split
        Its features must be row-major images of ``image_shape`` (height, width).
    """
    h, w = image_shape
    if h * w != split.n_features:
        raise InputError(
            f"`image_shape` must multiply to the {split.n_features} features of {split.name!r}; got {image_shape}"
        )

    def rot(x: np.ndarray) -> np.ndarray:
        return np.rot90(x.reshape(-1, h, w), k=quarter_turns, axes=(1, 2)).reshape(x.shape[0], -1)

    return Split.make(name=f"{split.name}-rotated", x_train=rot(split.x_train), y_train=split.y_train,
                      x_test=rot(split.x_test), y_test=split.y_test, n_classes=split.n_classes)


def permuted(split: Split, *, seed: int = 0) -> Split:
    """Features shuffled by one fixed random permutation (``default_rng(seed)``), same labels.

    Name ``<name>-permuted``.
    """
    perm = np.random.default_rng(seed).permutation(split.n_features)
    return Split.make(name=f"{split.name}-permuted", x_train=split.x_train[:, perm], y_train=split.y_train,
                      x_test=split.x_test[:, perm], y_test=split.y_test, n_classes=split.n_classes)


def pad_features(split: Split, n_features: int) -> Split:
    """Append zero features up to ``n_features`` (so data sets of different sizes share one input layer)."""
    extra = n_features - split.n_features
    if extra < 0:
        raise InputError(
            f"`n_features` must be at least the {split.n_features} features of {split.name!r}; got {n_features}"
        )

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, extra)))

    return Split.make(name=split.name, x_train=pad(split.x_train), y_train=split.y_train,
                      x_test=pad(split.x_test), y_test=split.y_test, n_classes=split.n_classes)


#: derivations by name, as used in task names such as ``"digits-parity"``
DERIVATIONS = {"parity": parity, "magnitude": magnitude, "rotated": rotated, "permuted": permuted}


def derive(split: Split, derivation: str) -> Split:
    """Apply the derivation named ``derivation`` (a key of :data:`DERIVATIONS`) with its defaults."""
    check_choice("derivation", derivation, DERIVATIONS)
    return DERIVATIONS[derivation](split)
