"""The on-disk schema: what each kind of neurobias file holds, and its validator.

Every neurobias netCDF file carries the global attributes ``kind`` (one of
:data:`KINDS`), ``schema_version`` (int, :data:`SCHEMA_VERSION` when written)
and ``neurobias_version``.  The content of each kind is declared in
:data:`SPECS`: required data variables with their exact dimensions and dtype
class, required coordinates, required attributes and, for some kinds,
patterns of optional variables and attributes.  Variables not listed are
allowed (optional), except complex ones anywhere.  ``docs/schema.md``
describes every kind in prose; keep both in step and bump
:data:`SCHEMA_VERSION` on any incompatible change.
"""
from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurobias.errors import InputError, SchemaError

__all__ = [
    "SCHEMA_VERSION",
    "KINDS",
    "SPECS",
    "VariableSpec",
    "KindSpec",
    "COORDINATES",
    "describe_coordinates",
    "validate",
    "check_header",
]

SCHEMA_VERSION = 1

# dtype classes: numpy dtype kinds each accepts
_DTYPE_KINDS: dict[str, str] = {
    "float": "f",  # real floating point
    "real": "fiu",  # real number (int or float)
    "int": "iu",
    "str": "USO",  # unicode, bytes or object holding str
    "numeric": "biuf",  # bool, int or float (masks)
    "scalar": "biufUSO",  # any non-complex scalar type (conditions)
}


@dataclass(frozen=True)
class VariableSpec:
    """A required (or pattern-matched optional) variable or coordinate.

    Attributes
    ----------
    dims : tuple of str
        Exact dimensions, in order.
    dtype : str
        Dtype class: ``float``, ``real``, ``int``, ``str``, ``numeric`` or ``scalar``.
    units : str
        Units, for the docs ("" if dimensionless).
    description : str
    """

    dims: tuple[str, ...]
    dtype: str
    units: str = ""
    description: str = ""


@dataclass(frozen=True)
class KindSpec:
    """What one kind of file holds.

    Attributes
    ----------
    name : str
    variables : mapping of str to VariableSpec
        Required data variables.
    coords : mapping of str to VariableSpec
        Required coordinates.
    attrs : mapping of str to str
        Required global attributes and their type: ``float``, ``int``, ``str``
        or ``sha256`` (64 lowercase hex digits).
    optional_variables : mapping of str to VariableSpec
        Name prefixes (e.g. ``condition_``) of optional variables and the
        spec a variable with that prefix must meet.
    paired_attr_prefixes : tuple of (str, str, str)
        ``(before, after, type)`` prefixes of attributes that must come in
        pairs: for every ``before + name`` there is ``after + name`` and vice
        versa, both of the given type.
    """

    name: str
    variables: Mapping[str, VariableSpec]
    coords: Mapping[str, VariableSpec]
    attrs: Mapping[str, str]
    optional_variables: Mapping[str, VariableSpec] = field(default_factory=dict)
    paired_attr_prefixes: tuple[tuple[str, str, str], ...] = ()
    description: str = ""


_TRIAL4 = ("context", "trial", "time")

SPECS: dict[str, KindSpec] = {
    "circuit": KindSpec(
        name="circuit",
        description="A circuit's fixed weights and static description.",
        variables={
            "W_rec": VariableSpec(("unit", "unit_pre"), "float", "", "recurrent weights, from unit_pre onto unit"),
            "W_in": VariableSpec(("unit", "input"), "float", "", "input weights"),
            "W_out": VariableSpec(("output", "unit"), "float", "", "readout weights"),
            "b_out": VariableSpec(("output",), "float", "", "readout offset"),
        },
        coords={
            "unit": VariableSpec(("unit",), "int", "", "unit index 0..n-1"),
            "unit_pre": VariableSpec(("unit_pre",), "int", "", "presynaptic unit index 0..n-1"),
            "input": VariableSpec(("input",), "str", "", "input channel names (may be empty)"),
            "output": VariableSpec(("output",), "str", "", "output channel names (may be empty)"),
        },
        attrs={
            "tau": "float",
            "phi": "str",
            "form": "str",
            "seed": "int",
            "connectivity": "str",
            "config": "str",
            "sha256_W_rec": "sha256",
            "sha256_W_in": "sha256",
            "sha256_W_out": "sha256",
            "sha256_b_out": "sha256",
        },
    ),
    "results": KindSpec(
        name="results",
        description="Everything a training run produced.",
        variables={
            "tonic": VariableSpec(("context", "unit"), "float", "state units", "learned tonic input per context"),
            "loss": VariableSpec(("step",), "float", "", "training loss per step"),
            "lr": VariableSpec(("step",), "float", "1", "learning rate per step"),
            "x": VariableSpec((*_TRIAL4, "unit"), "float", "state units", "state"),
            "r": VariableSpec((*_TRIAL4, "unit"), "float", "", "rates phi(x)"),
            "z": VariableSpec((*_TRIAL4, "output"), "float", "", "readout"),
            "target": VariableSpec((*_TRIAL4, "output"), "float", "", "task target"),
            "mask": VariableSpec((*_TRIAL4, "output"), "numeric", "1", "loss weight (0 or 1)"),
            "inputs": VariableSpec((*_TRIAL4, "input"), "float", "", "external input"),
            "nmse": VariableSpec(("context",), "float", "", "normalised MSE of z vs target per context"),
        },
        coords={
            "context": VariableSpec(("context",), "str", "", "context names"),
            "time": VariableSpec(("time",), "real", "ms", "time of each state"),
            "step": VariableSpec(("step",), "int", "", "optimiser step"),
            "unit": VariableSpec(("unit",), "int", "", "unit index"),
            "output": VariableSpec(("output",), "str", "", "output channel names"),
            "input": VariableSpec(("input",), "str", "", "input channel names (may be empty)"),
            "trial": VariableSpec(("trial",), "int", "", "trial index"),
        },
        attrs={
            "config": "str",
            "seed": "int",
            "training_mode": "str",
            "task": "str",
            "steps_done": "int",
        },
        optional_variables={
            "condition_": VariableSpec(("context",), "scalar", "", "a column of the task's conditions table"),
        },
        paired_attr_prefixes=(("weights_sha256_before_", "weights_sha256_after_", "sha256"),),
    ),
    "trajectories": KindSpec(
        name="trajectories",
        description="The output of simulate.",
        variables={
            "x": VariableSpec((*_TRIAL4, "unit"), "float", "state units", "state"),
            "r": VariableSpec((*_TRIAL4, "unit"), "float", "", "rates phi(x)"),
            "z": VariableSpec((*_TRIAL4, "output"), "float", "", "readout"),
        },
        coords={
            "context": VariableSpec(("context",), "str", "", "context names"),
            "time": VariableSpec(("time",), "real", "ms", "time of each state"),
        },
        attrs={"dt": "float", "method": "str", "noise_std": "float", "seed": "int", "engine": "str"},
    ),
    "fixed_points": KindSpec(
        name="fixed_points",
        description="Fixed points and slow points of a circuit per context (find_fixed_points).",
        variables={
            "x": VariableSpec(("fp", "unit"), "float", "state units", "the point (currents or rates, by form)"),
            "r": VariableSpec(("fp", "unit"), "float", "", "rates phi(x) (form=current) or x (form=rate)"),
            "residual": VariableSpec(("fp",), "float", "state units per ms", "max|F(x)|"),
            "q": VariableSpec(("fp",), "float", "(state units per ms)^2", "|F(x)|^2 / 2"),
            "eig_real": VariableSpec(("fp", "mode"), "float", "1/ms", "real parts of the Jacobian's eigenvalues"),
            "eig_imag": VariableSpec(("fp", "mode"), "float", "1/ms", "imaginary parts of the eigenvalues"),
            "index": VariableSpec(("fp",), "int", "", "number of eigenvalues with positive real part"),
            "stability": VariableSpec(("fp",), "str", "", "stable, marginal, saddle or unstable"),
            "oscillatory": VariableSpec(("fp",), "numeric", "", "1 if the leading eigenvalue is complex"),
            "kind": VariableSpec(("fp",), "str", "", "fixed or slow"),
        },
        coords={
            "fp": VariableSpec(("fp",), "int", "", "point index"),
            "context": VariableSpec(("fp",), "str", "", "context of each point"),
            "unit": VariableSpec(("unit",), "int", "", "unit index"),
            "mode": VariableSpec(("mode",), "int", "", "eigenvalue rank by real part, descending"),
        },
        attrs={
            "tol": "float",
            "slow_q": "float",
            "seed": "int",
            "n_candidates": "int",
            "method": "str",
            "form": "str",
            "phi": "str",
            "tau": "float",
        },
        optional_variables={
            "right_": VariableSpec(("fp", "mode_top", "unit"), "float", "", "right eigenvectors, real or imaginary part"),
            "left_": VariableSpec(("fp", "mode_top", "unit"), "float", "", "left eigenvectors, real or imaginary part"),
        },
    ),
    "continuation": KindSpec(
        name="continuation",
        description="Fixed points followed along a path of tonic inputs (continue_fixed_points).",
        variables={
            "x": VariableSpec(("branch", "step", "unit"), "float", "state units", "fixed point along the branch (NaN after its end)"),
            "s": VariableSpec(("branch", "step"), "float", "", "path parameter in [0, 1]"),
            "residual": VariableSpec(("branch", "step"), "float", "state units per ms", "max|F(x)|"),
            "index": VariableSpec(("branch", "step"), "int", "", "unstable eigenvalues (-1: not computed)"),
            "eig_real": VariableSpec(("branch", "step", "mode"), "float", "1/ms", "leading eigenvalues, real parts"),
            "eig_imag": VariableSpec(("branch", "step", "mode"), "float", "1/ms", "leading eigenvalues, imaginary parts"),
            "label": VariableSpec(("branch", "step"), "str", "", "start, fold, branch_point, hopf, end or empty"),
            "n_points": VariableSpec(("branch",), "int", "", "points on the branch"),
            "end_reason": VariableSpec(("branch",), "str", "", "reached_end, returned_to_start, max_steps, step_too_small"),
            "bif_kind": VariableSpec(("bifurcation",), "str", "", "fold, branch_point or hopf"),
            "bif_s": VariableSpec(("bifurcation",), "float", "", "path parameter of the bifurcation"),
            "bif_x": VariableSpec(("bifurcation", "unit"), "float", "state units", "state at the bifurcation"),
            "unreached_x": VariableSpec(("unreached", "unit"), "float", "state units", "fixed points at s = 1 no branch reaches"),
        },
        coords={
            "branch": VariableSpec(("branch",), "int", "", "branch index (one per start fixed point)"),
            "step": VariableSpec(("step",), "int", "", "continuation step"),
            "unit": VariableSpec(("unit",), "int", "", "unit index"),
        },
        attrs={"start_label": "str", "end_label": "str", "tol": "float", "form": "str", "phi": "str", "tau": "float"},
    ),
    "periodic_orbits": KindSpec(
        name="periodic_orbits",
        description="Limit cycles of a circuit per context (find_periodic_orbits).",
        variables={
            "context": VariableSpec(("orbit",), "str", "", "context of each orbit"),
            "converged": VariableSpec(("orbit",), "numeric", "", "1 if a periodic orbit was found"),
            "reason": VariableSpec(("orbit",), "str", "", "why no orbit was found (empty when converged)"),
            "period": VariableSpec(("orbit",), "float", "ms", "period of the orbit (NaN: none)"),
            "frequency": VariableSpec(("orbit",), "float", "Hz", "1000 / period"),
            "amplitude": VariableSpec(("orbit",), "float", "state units", "half the largest peak-to-peak excursion of a unit"),
            "x": VariableSpec(("orbit", "phase", "unit"), "float", "state units", "the orbit at equally spaced phases"),
            "multiplier_real": VariableSpec(("orbit", "multiplier"), "float", "",
                                            "Floquet multipliers by decreasing modulus, real part"),
            "multiplier_imag": VariableSpec(("orbit", "multiplier"), "float", "",
                                            "Floquet multipliers by decreasing modulus, imaginary part"),
            "n_unstable": VariableSpec(("orbit",), "int", "", "non-trivial multipliers of modulus above 1"),
            "stability": VariableSpec(("orbit",), "str", "", "stable, unstable or not converged"),
            "residual": VariableSpec(("orbit",), "float", "state units", "max|phi_T(x0) - x0|"),
            "tonic": VariableSpec(("orbit", "unit"), "float", "state units", "tonic input of the context"),
        },
        coords={
            "orbit": VariableSpec(("orbit",), "int", "", "orbit index (one per context)"),
            "phase": VariableSpec(("phase",), "float", "", "phase as a fraction of the period"),
            "unit": VariableSpec(("unit",), "int", "", "unit index"),
        },
        attrs={"tol": "float", "steps_per_tau": "float", "n_multipliers": "int", "form": "str", "phi": "str",
               "tau": "float"},
    ),
    "orbit_continuation": KindSpec(
        name="orbit_continuation",
        description="Limit cycles followed along a path of tonic inputs (continue_periodic_orbits).",
        variables={
            "s": VariableSpec(("branch", "step"), "float", "", "path parameter in [0, 1]"),
            "period": VariableSpec(("branch", "step"), "float", "ms", "period of the cycle"),
            "frequency": VariableSpec(("branch", "step"), "float", "Hz", "1000 / period"),
            "amplitude": VariableSpec(("branch", "step"), "float", "state units", "half the largest peak-to-peak excursion"),
            "x0": VariableSpec(("branch", "step", "unit"), "float", "state units", "the cycle's point on its section"),
            "label": VariableSpec(("branch", "step"), "str", "", "start, fold, period_doubling, torus, end or empty"),
            "end_reason": VariableSpec(("branch",), "str", "", "reached_end, hopf, period_diverges, max_steps or "
                                       "step_too_small"),
            "end_s": VariableSpec(("branch",), "float", "", "where the branch ends (Hopf point for hopf, where the "
                                  "period diverges for period_diverges)"),
            "event_kind": VariableSpec(("event",), "str", "", "fold, period_doubling, torus, hopf or period_diverges"),
            "event_s": VariableSpec(("event",), "float", "", "path parameter of the event"),
        },
        coords={
            "branch": VariableSpec(("branch",), "int", "", "branch index (one per end context with a cycle)"),
            "step": VariableSpec(("step",), "int", "", "continuation step"),
            "unit": VariableSpec(("unit",), "int", "", "unit index"),
        },
        attrs={"start_label": "str", "end_label": "str", "tol": "float", "form": "str", "phi": "str", "tau": "float"},
    ),
    "comparison": KindSpec(
        name="comparison",
        description="How the contexts of a run differ (compare_contexts): tonic patterns, gain, fixed points.",
        variables={
            "tonic_norm": VariableSpec(("context",), "float", "state units", "norm of each context's tonic input"),
            "tonic_cosine": VariableSpec(("context", "context_b"), "float", "", "cosine similarity of tonic inputs"),
            "tonic_correlation": VariableSpec(("context", "context_b"), "float", "",
                                              "Pearson correlation of tonic inputs across units"),
            "tonic_distance": VariableSpec(("context", "context_b"), "float", "state units",
                                           "Euclidean distance of tonic inputs"),
            "pca_explained_variance": VariableSpec(("pca_component",), "float", "state units squared",
                                                   "variance of the centred tonic bank along each principal axis"),
            "pca_explained_variance_ratio": VariableSpec(("pca_component",), "float", "", "fraction of the variance"),
            "pca_loadings": VariableSpec(("pca_component", "unit"), "float", "", "principal axes in unit space"),
            "pca_scores": VariableSpec(("context", "pca_component"), "float", "state units", "each context on each axis"),
            "pca_participation_ratio": VariableSpec((), "float", "", "participation ratio of the tonic bank"),
            "pca_null_participation_ratio": VariableSpec(("pca_shuffle",), "float", "",
                                                         "participation ratio of unit-shuffled banks"),
            "pca_p_value": VariableSpec((), "float", "", "(1 + #{null <= observed}) / (1 + n_shuffles)"),
            "gain": VariableSpec(("context", "unit"), "float", "", "phi' at the time-averaged state"),
        },
        coords={
            "context": VariableSpec(("context",), "str", "", "context names"),
            "context_b": VariableSpec(("context_b",), "str", "", "the same names, second member of a pair"),
            "unit": VariableSpec(("unit",), "int", "", "unit index"),
        },
        attrs={"parts": "str", "skipped": "str", "n_shuffles": "int", "seed": "int", "config": "str"},
    ),
    # recordings (neurobias.recordings, neurobias.fitting); `rate` may be (condition|trial, time, neuron),
    # checked by neurobias.recordings.validate
    "recording": KindSpec(
        name="recording",
        description="A canonical neural recording (condition averages or single trials).",
        variables={},
        coords={
            "time": VariableSpec(("time",), "real", "ms", "bin centres, evenly spaced"),
            "neuron": VariableSpec(("neuron",), "scalar", "", "neuron names or ids"),
        },
        attrs={"units": "str", "source": "str", "citation": "str", "licence": "str"},
    ),
    "fit": KindSpec(
        name="fit",
        description="Tonic inputs of a fixed circuit fitted to a recording (fit_recordings).",
        variables={
            "tonic": VariableSpec(("condition", "unit"), "float", "state units", "fitted tonic input per condition"),
            "x0": VariableSpec(("condition", "unit"), "float", "state units", "initial state per condition"),
            "train": VariableSpec(("condition", "time", "neuron"), "float", "", "fitted target"),
            "test": VariableSpec(("condition", "time", "neuron"), "float", "", "held-out target"),
            "model": VariableSpec(("condition", "time", "neuron"), "float", "", "model read-out rates"),
            "loss": VariableSpec(("step",), "float", "", "fitting loss per step"),
            "r2_neuron": VariableSpec(("neuron",), "float", "1", "held-out R2 per neuron"),
        },
        coords={
            "condition": VariableSpec(("condition",), "str", "", "condition names"),
            "time": VariableSpec(("time",), "real", "ms", "bin centres"),
            "neuron": VariableSpec(("neuron",), "scalar", "", "recorded neurons"),
        },
        attrs={"r2_train": "float", "r2_test": "float", "noise_ceiling": "float", "holdout": "str", "mode": "str",
               "readout": "str", "seed": "int", "config": "str"},
    ),
    "crossval": KindSpec(
        name="crossval",
        description="Held-out R² of a fitted model and its baselines, with nulls and the noise ceiling (fit-recordings).",
        variables={
            "r2": VariableSpec(("model", "scheme"), "float", "", "R² of the pooled held-out predictions"),
            "r2_null": VariableSpec(("model", "scheme", "shuffle"), "float", "", "R² with conditions permuted"),
            "r2_p_value": VariableSpec(("model", "scheme"), "float", "", "p-value against the null"),
            "ceiling": VariableSpec(("scheme",), "float", "", "noise ceiling of the held-out R²"),
            "r2_of_ceiling": VariableSpec(("model", "scheme"), "float", "", "R² as a fraction of the ceiling"),
        },
        coords={
            "model": VariableSpec(("model",), "str", "", "fitted model, then the baselines"),
            "scheme": VariableSpec(("scheme",), "str", "", "what is held out"),
        },
        attrs={"n_shuffles": "int", "seed": "int", "config": "str"},
    ),
    "recording_comparison": KindSpec(
        name="recording_comparison",
        description="Model-vs-data metrics of a fit, each with its null (compare_fit).",
        variables={},
        coords={},
        attrs={"metrics": "str", "n_shuffles": "int", "seed": "int"},
    ),
}
KINDS: tuple[str, ...] = tuple(SPECS)

#: What each named dimension of the project indexes: ``name -> (long_name, units)`` of its coordinate ("" units:
#: a label or an index).  :func:`describe_coordinates` gives a coordinate without a ``long_name`` these
#: attributes when a file is written; a kind's own coordinate spec (:data:`SPECS`) takes precedence.
COORDINATES: dict[str, tuple[str, str]] = {
    "context": ("context name", ""),
    "context_b": ("context name, second member of a pair", ""),
    "trial": ("trial index", ""),
    "time": ("time", "ms"),
    "unit": ("unit index", ""),
    "unit_pre": ("presynaptic unit index", ""),
    "input": ("input channel", ""),
    "output": ("output channel", ""),
    "step": ("step index", ""),
    "rank": ("basis vector of the tonic bank", ""),
    "fp": ("fixed or slow point index", ""),
    "mode": ("eigenvalue rank by real part, descending", ""),
    "mode_top": ("eigenvector rank by real part of its eigenvalue, descending", ""),
    "branch": ("branch index", ""),
    "bifurcation": ("bifurcation index", ""),
    "unreached": ("index of an unreached end fixed point", ""),
    "event": ("event index", ""),
    "orbit": ("orbit index (one per context)", ""),
    "phase": ("phase as a fraction of the period", "1"),
    "multiplier": ("Floquet multiplier rank by modulus, descending", ""),
    "stability": ("stability class of a fixed point", ""),
    "condition": ("condition name", ""),
    "condition_b": ("condition name, second member of a pair", ""),
    "neuron": ("recorded neuron", ""),
    "shuffle": ("shuffle index", ""),
    "pc": ("principal component of the data, 1 = largest", ""),
    "cc": ("canonical pair index", ""),
    "pca_component": ("principal component of the tonic bank, largest variance first", ""),
    "pca_shuffle": ("unit shuffle of the tonic bank", ""),
    "gain_mode": ("eigenvalue rank of the effective connectivity by real part, descending", ""),
    "gain_mode_top": ("eigenvector or singular vector rank of the effective connectivity, largest first", ""),
    "align_mode": ("mode of the effective connectivity, largest first", ""),
    "cluster_id": ("cluster of units", ""),
    "cluster_k": ("number of clusters tried", ""),
    "tv_group": ("group of units (all units, then each cluster)", ""),
    "fp_match": ("matched pair of fixed points between two contexts", ""),
    "fold": ("fold of a cross-validation", ""),
}


def describe_coordinates(ds: Any, kind: str) -> Any:
    """``ds`` with every coordinate described: ``long_name`` (and ``units``) where a coordinate has none.

    The description is the kind's coordinate spec in :data:`SPECS` when it has
    one, else the project's meaning of the dimension in :data:`COORDINATES`;
    coordinates named after a metric's dimension with a prefix (``cca_shuffle``)
    take the meaning of the suffix.  Coordinates that already carry a
    ``long_name``, and ones with no known meaning, are left as they are (the
    schema test reports the latter).  Data variables are never touched: they
    are described where they are computed.

    Parameters
    ----------
    ds : xarray.Dataset
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    xarray.Dataset
        A shallow copy; ``ds`` is not modified.
    """
    out = ds.copy()
    spec = SPECS[kind].coords if kind in SPECS else {}
    for name in list(out.coords):
        var = out.variables[name]
        if str(var.attrs.get("long_name", "")).strip():
            continue
        key = str(name)
        if key in spec and spec[key].description:
            long_name, units = spec[key].description, spec[key].units
        else:
            words = key.split("_")
            suffixes = ("_".join(words[i:]) for i in range(len(words)))  # the name, then shorter tails
            found = next((COORDINATES[s] for s in suffixes if s in COORDINATES), None)
            if found is None:
                continue
            long_name, units = found
        attrs = {**var.attrs, "long_name": long_name}
        if units and "units" not in attrs:
            attrs["units"] = units
        out[name].attrs = attrs
    return out
HEADER_ATTRS: tuple[str, ...] = ("neurobias_version", "schema_version", "kind")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _attr_ok(value: Any, typ: str) -> bool:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return False
    if typ == "float":
        return isinstance(value, numbers.Real)
    if typ == "int":
        return isinstance(value, numbers.Integral)
    if typ == "str":
        return isinstance(value, str)
    if typ == "sha256":
        return isinstance(value, str) and bool(_SHA256.match(value))
    raise ValueError(f"unknown attribute type {typ!r}")  # a bug in SPECS


_ATTR_DESC = {
    "float": "a number",
    "int": "an int",
    "str": "a string",
    "sha256": "a sha256 hex digest (64 lowercase hex digits)",
}


def _dtype_ok(values: Any, dtype: np.dtype, cls: str) -> bool:
    if dtype.kind == "c":
        return False
    if dtype.kind not in _DTYPE_KINDS[cls]:
        return False
    if dtype.kind == "O":
        flat = np.asarray(values).ravel()
        return all(isinstance(v, (str, bytes)) for v in flat)
    return True


def _check_variable(ds: Any, name: str, spec: VariableSpec, kind: str, what: str) -> None:
    var = ds.variables[name]
    if tuple(var.dims) != spec.dims:
        raise SchemaError(
            f"{kind} {what} `{name}` must have dims {spec.dims}; got {tuple(var.dims)}"
        )
    # Zero-size arrays carry no values, so any dtype is acceptable (e.g. an
    # empty `input` coordinate may come back as float from some writers).
    if var.size > 0 and not _dtype_ok(var.values, var.dtype, spec.dtype):
        raise SchemaError(
            f"{kind} {what} `{name}` must have dtype class {spec.dtype!r}; got {var.dtype}"
        )


def check_header(ds: Any, *, kind: str | None = None, source: str = "dataset", require: bool = True) -> str:
    """Check the global ``kind`` and ``schema_version`` attributes.

    Parameters
    ----------
    ds : xarray.Dataset
    kind : str, optional
        Expected kind; any known kind when omitted.
    source : str
        Name for messages (e.g. the file path).
    require : bool
        Whether the attributes must be present (files) or may be missing
        (datasets about to be written).

    Returns
    -------
    str
        The kind (the file's, or ``kind`` when absent and not required).

    Raises
    ------
    SchemaError
        Missing header, unknown or other kind, or a schema_version newer
        than :data:`SCHEMA_VERSION`.
    """
    attrs = ds.attrs
    file_kind = attrs.get("kind")
    if file_kind is None:
        if require:
            raise SchemaError(f"{source} is not a neurobias file: it has no `kind` attribute")
        file_kind = kind
    elif not isinstance(file_kind, str) or file_kind not in SPECS:
        raise SchemaError(
            f"{source} has unknown kind {file_kind!r}; expected one of {', '.join(KINDS)}"
        )
    if kind is not None and file_kind != kind:
        hint = f" (a run writes its {kind} file as {kind}.nc)" if kind in ("circuit", "results") else ""
        raise SchemaError(f"{source} is a {file_kind!r} file; expected a {kind!r} file{hint}")
    version = attrs.get("schema_version")
    if version is None:
        if require:
            raise SchemaError(f"{source} has no `schema_version` attribute")
    else:
        if isinstance(version, np.ndarray) and version.ndim == 0:
            version = version[()]
        if isinstance(version, (bool, np.bool_)) or not isinstance(version, numbers.Integral):
            raise SchemaError(f"{source} attribute `schema_version` must be an int; got {version!r}")
        if int(version) > SCHEMA_VERSION:
            raise SchemaError(
                f"{source} has schema_version {int(version)}, newer than the {SCHEMA_VERSION} this "
                f"version of neurobias reads; upgrade neurobias"
            )
        if int(version) < 1:
            raise SchemaError(f"{source} has invalid schema_version {int(version)}; expected >= 1")
    return file_kind  # type: ignore[return-value]


def validate(ds: Any, kind: str, *, source: str | None = None) -> None:
    """Check that ``ds`` is a valid dataset of the given kind.

    Checks the required variables (exact dims, dtype class), coordinates and
    attributes of ``kind``, the optional-variable patterns, paired
    attributes, that nothing is complex and, if present, the ``kind`` and
    ``schema_version`` attributes.  Extra variables and attributes are
    allowed.

    Parameters
    ----------
    ds : xarray.Dataset
    kind : str
        One of :data:`KINDS`.
    source : str, optional
        Name of the dataset for messages (default: the kind).

    Raises
    ------
    InputError
        If ``kind`` is unknown or ``ds`` is not a Dataset.
    SchemaError
        Naming the first missing or wrong variable, dimension, dtype or
        attribute.
    """
    import xarray as xr

    if kind not in SPECS:
        raise InputError(f"`kind` must be one of {', '.join(KINDS)}; got {kind!r}")
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"`ds` must be an xarray.Dataset; got {type(ds).__name__}")
    spec = SPECS[kind]
    where = source or f"{kind} dataset"
    check_header(ds, kind=kind, source=where, require=False)

    for name, var in ds.variables.items():
        if var.dtype.kind == "c":
            raise SchemaError(
                f"{where} variable `{name}` is complex ({var.dtype}); netCDF has no complex type: "
                f"store `{name}_real` and `{name}_imag` separately"
            )
    for name, vspec in spec.variables.items():
        if name not in ds.data_vars:
            if name in ds.coords:
                raise SchemaError(f"{where} variable `{name}` must be a data variable, not a coordinate")
            raise SchemaError(f"{where} is missing the variable `{name}` with dims {vspec.dims}")
        _check_variable(ds, name, vspec, where, "variable")
    for name, cspec in spec.coords.items():
        if name not in ds.coords:
            raise SchemaError(f"{where} is missing the coordinate `{name}` with dims {cspec.dims}")
        _check_variable(ds, name, cspec, where, "coordinate")
    for prefix, ospec in spec.optional_variables.items():
        for name in ds.data_vars:
            if str(name).startswith(prefix):
                _check_variable(ds, str(name), ospec, where, "variable")
    for name, typ in spec.attrs.items():
        if name not in ds.attrs:
            raise SchemaError(f"{where} is missing the attribute `{name}` ({_ATTR_DESC[typ]})")
        if not _attr_ok(ds.attrs[name], typ):
            raise SchemaError(
                f"{where} attribute `{name}` must be {_ATTR_DESC[typ]}; got {ds.attrs[name]!r}"
            )
    for before, after, typ in spec.paired_attr_prefixes:
        for a, b in ((before, after), (after, before)):
            for name in ds.attrs:
                if str(name).startswith(a):
                    partner = b + str(name)[len(a):]
                    if partner not in ds.attrs:
                        raise SchemaError(f"{where} has attribute `{name}` but not `{partner}`")
                    if not _attr_ok(ds.attrs[name], typ):
                        raise SchemaError(
                            f"{where} attribute `{name}` must be {_ATTR_DESC[typ]}; got {ds.attrs[name]!r}"
                        )
