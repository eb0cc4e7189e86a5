"""Figures from neurobias Datasets.

Every function takes a Dataset (of the ``results`` kind), draws it and
returns the matplotlib object it drew on; none computes results or touches
files.  Functions that take ``ax`` (or ``axes``) draw there when given and
otherwise create a new :class:`matplotlib.figure.Figure` directly (no pyplot,
no GUI backend, nothing shared between calls), sized for 150 dpi with a
constrained layout.  Save with ``fig.savefig(path, dpi=150)``.

- :func:`plot_loss`: loss per step (log y) with the learning rate on a twin axis.
- :func:`plot_outputs`: readout ``z`` over ``target``, one row per context.
- :func:`plot_tonic`: the tonic-input bank as a heat map (context x unit).
- :func:`plot_rates`: rates of a few units over time, one panel per context.
- :func:`figure_set`: all four as ``{"loss", "outputs", "tonic", "rates"}`` Figures.
- :func:`root_figure`: the top-level Figure of an Axes (to save what a function drew).

From a ``comparison`` Dataset (``neurobias compare-contexts``):

- :func:`plot_similarity`: cosine similarity and distance of the tonic inputs, annotated matrices.
- :func:`plot_tonic_pca`: PCA of the tonic bank with its unit-shuffle null.
- :func:`plot_task_variance`: normalised task variance per unit, sorted by cluster.
- :func:`plot_matched`: fixed points matched between contexts, counts and displacement.
"""
from neurobias.plotting._common import root_figure
from neurobias.plotting.comparison import plot_matched, plot_similarity, plot_task_variance, plot_tonic_pca
from neurobias.plotting.outputs import plot_outputs
from neurobias.plotting.summary import figure_set
from neurobias.plotting.tonic import plot_tonic
from neurobias.plotting.training import plot_loss
from neurobias.plotting.trajectories import plot_rates

__all__ = [
    "plot_loss",
    "plot_outputs",
    "plot_tonic",
    "plot_rates",
    "figure_set",
    "root_figure",
    "plot_similarity",
    "plot_tonic_pca",
    "plot_task_variance",
    "plot_matched",
]
