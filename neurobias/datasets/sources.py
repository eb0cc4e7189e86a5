"""Data sets available offline: scikit-learn's handwritten digits and MNIST-1D generated locally.

* :func:`digits`: the 1,797 8x8 images of UCI's optical recognition of
  handwritten digits, bundled with scikit-learn (Alpaydin & Kaynak 1998);
  pixels scaled from 0..16 to [0, 1].
* :func:`mnist1d`: MNIST-1D (Greydanus 2020, "Scaling down deep learning",
  arXiv:2011.14439), 40-sample 1-D signals of ten digit templates, generated
  by the ``mnist1d`` package's own ``make_dataset`` (never downloaded).
  ``make_dataset`` seeds and draws from numpy's *global* generator; the
  global state is saved and restored around the call so that this function
  has no side effect on other code.
"""
from __future__ import annotations

import functools

import numpy as np

from neurobias.datasets.base import Split
from neurobias.errors import check_number

__all__ = ["digits", "mnist1d"]


def digits(*, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's handwritten digits, 8x8 pixels in [0, 1], split at random.

    Parameters
    ----------
    test_fraction : float
        Fraction of the 1,797 images held out for testing, in (0, 1).
    seed : int
        Seed of the random permutation that splits the images.

    Returns
    -------
    Split
        ``name="digits"``, 64 features (row-major 8x8 pixels), 10 classes.
    """
    from sklearn.datasets import load_digits

    frac = check_number("test_fraction", test_fraction, gt=0, lt=1)
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(frac * len(y)))
    test, train = order[:n_test], order[n_test:]
    return Split.make(name="digits", x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test],
                      n_classes=10)


def mnist1d(*, n_samples: int = 5000, train_fraction: float = 0.8, seed: int = 42) -> Split:
    """MNIST-1D generated locally with the ``mnist1d`` package (no download).

    Generation takes a few seconds; results are cached per argument set for
    the life of the process (a :class:`Split` is immutable).

    Parameters
    ----------
    n_samples : int
        Number of signals (a multiple of 10 is used: ``n_samples // 10`` per
        class); the package's default is 5,000.
    train_fraction : float
        Fraction used for training (the package's default split is 0.8).
    seed : int
        Seed passed to the generator (the package's default is 42, which
        gives its published data set).

    Returns
    -------
    Split
        ``name="mnist1d"``, 40 features (signal samples, standardised over
        the whole set by the package), 10 classes.
    """
    n_samples = check_number("n_samples", n_samples, ge=20, integer=True)
    frac = check_number("train_fraction", train_fraction, gt=0, lt=1)
    seed = check_number("seed", seed, ge=0, integer=True)
    return _mnist1d(int(n_samples), frac, int(seed))


@functools.lru_cache(maxsize=4)
def _mnist1d(n_samples: int, frac: float, seed: int) -> Split:
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(n_samples)
    args.train_split = frac
    args.seed = int(seed)
    state = np.random.get_state()
    py_state = random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
        random.setstate(py_state)
    return Split.make(name="mnist1d", x_train=data["x"], y_train=data["y"], x_test=data["x_test"],
                      y_test=data["y_test"], n_classes=10)
