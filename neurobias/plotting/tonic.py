"""The tonic-input bank as a heat map: contexts by units."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from neurobias.plotting._common import FULL_WIDTH, names, new_figure, require

__all__ = ["plot_tonic"]

_CMAP = "RdBu_r"


def _unit_order(bank: np.ndarray, first_context: str) -> tuple[np.ndarray, str]:
    """A display order of the units of ``bank`` (context, unit) and how it was chosen.

    With two or more contexts and a finite, non-constant bank, units are
    ordered by their score on the first principal direction of the bank
    (units as samples, contexts as features, centred over units), signed so
    that the direction's loadings sum to a non-negative number.  Otherwise
    they are ordered by their value in the first context.
    """
    n_context = bank.shape[0]
    if n_context >= 2 and np.all(np.isfinite(bank)):
        centred = bank.T - bank.T.mean(axis=0, keepdims=True)  # (unit, context)
        if np.any(centred != 0):
            _, s, vt = np.linalg.svd(centred, full_matrices=False)
            if s[0] > 0:
                direction = vt[0]
                total = direction.sum()
                flip = total < 0 if abs(total) > 1e-12 else direction[np.argmax(np.abs(direction))] < 0
                if flip:
                    direction = -direction
                order = np.argsort(centred @ direction, kind="stable")
                return order, "sorted by the first principal direction of the bank"
    order = np.argsort(bank[0], kind="stable")
    return order, f"sorted by tonic input in '{first_context}'"


def plot_tonic(results: xr.Dataset, *, ax: Axes | None = None, sort: bool = True) -> Axes:
    """Plot the tonic-input bank as a heat map, contexts down, units across.

    A diverging colormap centred at 0 with symmetric limits ``(-m, m)``,
    ``m`` the largest absolute tonic input, and a colourbar labelled
    "tonic input".

    Parameters
    ----------
    results : xarray.Dataset
        A ``results`` Dataset with ``tonic`` of shape (context, unit).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (the colourbar takes room from it); a new Figure is
        created when omitted.
    sort : bool, default True
        Order the units for display: by their score on the first principal
        direction of the bank (units as samples, contexts as features) when
        there are two or more contexts, else by the first context's value.
        The x label says which.  With ``sort=False`` units keep their order.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes holding the image (``ax.images[0]``).
    """
    require(results, {"tonic": ("context", "unit")}, "plot_tonic")
    bank = np.asarray(results["tonic"].transpose("context", "unit").values, dtype=float)
    n_context, n_unit = bank.shape
    context_names = names(results["context"]) if "context" in results.coords else [
        str(i) for i in range(n_context)
    ]

    if ax is None:
        ax = new_figure(FULL_WIDTH, max(2.4, 1.3 + 0.34 * n_context)).add_subplot()

    if sort and n_context and n_unit:
        order, how = _unit_order(bank, context_names[0])
        shown = bank[:, order]
        xlabel = f"unit rank (n = {n_unit}), {how}"
    else:
        shown = bank
        xlabel = f"unit (n = {n_unit})"

    finite = np.abs(shown[np.isfinite(shown)])
    limit = float(finite.max()) if finite.size else 0.0
    if limit == 0.0:
        limit = 1.0

    image = ax.imshow(
        shown,
        cmap=_CMAP,
        vmin=-limit,
        vmax=limit,
        aspect="auto",
        interpolation="nearest",
        origin="upper",
        extent=(-0.5, n_unit - 0.5, n_context - 0.5, -0.5),
    )
    ax.set_yticks(np.arange(n_context), labels=context_names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("context")
    mode = results.attrs.get("training_mode")
    ax.set_title("tonic input per context" + (f" ({mode} mode)" if mode else ""), fontsize="medium")
    colorbar = ax.get_figure().colorbar(image, ax=ax, pad=0.015, fraction=0.05, aspect=max(8, 4 * n_context))
    colorbar.set_label("tonic input")
    return ax
