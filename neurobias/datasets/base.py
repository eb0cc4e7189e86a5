"""The :class:`Split` container: a classification data set split into train and test sets."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_finite, check_number, describe_shape

__all__ = ["Split"]


@dataclass(frozen=True)
class Split:
    """A classification data set, split into train and test sets.

    Build one with :meth:`make`, which validates and copies the arrays; the
    arrays are then read-only.

    Attributes
    ----------
    name : str
        Short name (``"digits"``, ``"mnist1d"``, ``"digits-parity"``, ...).
    x_train : ndarray of shape (sample, feature)
        Training inputs, float64.
    y_train : ndarray of shape (sample,)
        Training labels, int64 in ``[0, n_classes)``.
    x_test, y_test : ndarray
        Test inputs (sample, feature) and labels (sample,).
    n_classes : int
        Number of classes (>= 2).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @classmethod
    def make(
        cls, *, name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
        n_classes: int | None = None,
    ) -> "Split":
        """Validate, copy to float64 / int64 and freeze the arrays.

        Raises
        ------
        InputError
            Naming the array with a wrong shape, non-finite values or a label out of range.
        """
        arrays = {}
        for key, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            xa = np.array(x, dtype=np.float64, order="C")
            ya = np.array(y)
            if xa.ndim != 2 or xa.shape[0] < 1:
                raise InputError(f"`x_{key}` must have shape (sample, feature); got {describe_shape(xa.shape)}")
            if ya.shape != (xa.shape[0],):
                raise InputError(
                    f"`y_{key}` must have shape (sample,) = ({xa.shape[0]},); got {describe_shape(ya.shape)}"
                )
            if not np.issubdtype(ya.dtype, np.integer):
                raise InputError(f"`y_{key}` must hold integer labels; got dtype {ya.dtype}")
            check_finite(f"x_{key}", xa)
            arrays[key] = (xa, ya.astype(np.int64))
        if arrays["train"][0].shape[1] != arrays["test"][0].shape[1]:
            raise InputError(
                f"`x_train` and `x_test` must have the same number of features; got "
                f"{arrays['train'][0].shape[1]} and {arrays['test'][0].shape[1]}"
            )
        labels = np.concatenate([arrays["train"][1], arrays["test"][1]])
        k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
        if k < 2:
            raise InputError(f"`n_classes` must be at least 2; got {k}")
        if labels.min() < 0 or labels.max() >= k:
            raise InputError(f"labels must lie in [0, n_classes = {k}); got [{labels.min()}, {labels.max()}]")
        for xa, ya in arrays.values():
            xa.setflags(write=False)
            ya.setflags(write=False)
        return cls(name=str(name), x_train=arrays["train"][0], y_train=arrays["train"][1],
                   x_test=arrays["test"][0], y_test=arrays["test"][1], n_classes=k)

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return int(self.x_train.shape[1])

    def subsample(self, *, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> "Split":
        """A random subset of the train and test samples (all of a set when its count is None).

        The subsets are drawn without replacement by ``numpy.random.default_rng(seed)``
        and keep the original order.
        """
        rng = np.random.default_rng(seed)

        def pick(n: int | None, total: int, field: str) -> np.ndarray:
            if n is None or n >= total:
                return np.arange(total)
            check_number(field, n, gt=0, integer=True)
            return np.sort(rng.choice(total, size=int(n), replace=False))

        i = pick(n_train, self.x_train.shape[0], "n_train")
        j = pick(n_test, self.x_test.shape[0], "n_test")
        return Split.make(name=self.name, x_train=self.x_train[i], y_train=self.y_train[i],
                          x_test=self.x_test[j], y_test=self.y_test[j], n_classes=self.n_classes)
