"""Compare a fitted model with the recording it was fitted to: every metric, one Dataset."""
from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError
from neurobias.fitting.structure import fixed_point_structure
from neurobias.recordings import metrics as M

__all__ = ["compare_fit", "pc_projection", "METRICS"]

METRICS: tuple[str, ...] = ("r2", "cca", "shape", "rsa", "dsa", "rotation", "fixed_points")


def _prefix(ds: xr.Dataset, prefix: str) -> xr.Dataset:
    names = {n: f"{prefix}{n}" for n in ds.data_vars}
    out = ds.rename(names)
    dims = {d: f"{prefix}{d}" for d in out.dims if d in ("shuffle", "cc")}
    return out.rename(dims) if dims else out  # the dims and their index coordinates


def pc_projection(data: xr.DataArray, model: xr.DataArray, *, n_pcs: int = 6) -> xr.Dataset:
    """Data and model projected on the data's top principal components.

    Parameters
    ----------
    data, model : DataArray of shape (condition, time, neuron)
        The same neurons.
    n_pcs : int

    Returns
    -------
    xarray.Dataset
        ``pc_data``, ``pc_model (condition, time, pc)``; ``pc_explained (pc)``:
        fraction of the data's variance on each PC. Both are centred by the
        data's neuron means.
    """
    a = np.asarray(data.transpose("condition", "time", "neuron").values, dtype=np.float64)
    b = np.asarray(model.transpose("condition", "time", "neuron").values, dtype=np.float64)
    flat = a.reshape(-1, a.shape[2])
    mu = flat.mean(axis=0)
    _, s, vt = np.linalg.svd(flat - mu, full_matrices=False)
    k = min(n_pcs, vt.shape[0])
    return xr.Dataset(
        {"pc_data": (("condition", "time", "pc"), (a - mu) @ vt[:k].T,
                     {"long_name": "held-out data projected on the data's principal components"}),
         "pc_model": (("condition", "time", "pc"), (b - mu) @ vt[:k].T,
                      {"long_name": "model rates projected on the data's principal components"}),
         "pc_explained": (("pc",), (s[:k] ** 2) / np.sum(s ** 2),
                          {"long_name": "fraction of the data's variance on each principal component", "units": "1"})},
        coords={"condition": data["condition"].values, "time": ("time", data["time"].values, {"units": "ms"}),
                "pc": ("pc", np.arange(1, k + 1), {"long_name": "principal component of the data, 1 = largest"})},
    )


def compare_fit(fit: xr.Dataset, *, circuit: Circuit | None = None, metrics: tuple[str, ...] = METRICS,
                n_shuffles: int = 100, dsa_shuffles: int = 5, n_components: int = 10, fp_candidates: int = 64,
                seed: int = 0, progress: bool = False) -> xr.Dataset:
    """Every model-vs-data metric of a fit, each with its null.

    Parameters
    ----------
    fit : xarray.Dataset
        A ``fit`` Dataset (:func:`neurobias.fit_recordings`).
    circuit : Circuit, optional
        The fitted circuit (needed for ``fixed_points``).
    metrics : tuple of str
        Any of ``r2, cca, shape, rsa, dsa, rotation, fixed_points``.
    n_shuffles, dsa_shuffles : int
        Null sizes (DSA fits are slow).
    n_components : int
        PCs for CCA.
    fp_candidates : int
        Candidates per condition for the fixed-point search.
    seed : int

    Returns
    -------
    xarray.Dataset
        Variables prefixed by metric (``r2_``, ``cca_``, ``shape_``, ``rsa_``,
        ``dsa_``, ``rot_data_``, ``rot_model_``, ``fp_``). Every metric compares
        the held-out target ``test`` with the model's read-out rates
        ``model``: for ``holdout="trials"`` that is the other half of the
        trials; for ``holdout="time"`` the R² counts only the held-out bins,
        while the trajectory metrics (CCA, shape, RSA, DSA, rotation) need
        whole trajectories and so also see the fitted bins.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise InputError(f"`metrics` must be a subset of {', '.join(METRICS)}; got unknown {unknown}")
    if "fixed_points" in metrics and circuit is None:
        raise InputError("`metrics` includes fixed_points: pass the fitted `circuit`")
    data = fit["test"]
    model = fit["model"]
    mask = fit["test_time"].values.astype(bool)
    parts: list[xr.Dataset] = []
    bar = tqdm(list(metrics), disable=not progress, desc="comparing", unit="metric")
    for name in bar:
        bar.set_postfix(metric=name, refresh=False)
        if name == "r2":
            parts.append(M.r2(data, model, mask=mask, n_shuffles=n_shuffles, seed=seed))
        elif name == "cca":
            parts.append(_prefix(M.cca_similarity(data, model, n_components=n_components, n_shuffles=n_shuffles,
                                                  seed=seed), "cca_"))
        elif name == "shape":
            parts.append(_prefix(M.shape_distance(data, model, n_shuffles=n_shuffles, seed=seed), "shape_"))
        elif name == "rsa":
            parts.append(_prefix(M.rsa(data, model, n_shuffles=n_shuffles, seed=seed).drop_vars(
                ["rdm_data", "rdm_model"]), "rsa_"))
        elif name == "dsa":
            parts.append(_prefix(M.dsa_distance(data, model, n_shuffles=dsa_shuffles, seed=seed), "dsa_"))
        elif name == "rotation":
            for side, arr in (("data", data), ("model", model)):
                rot = _prefix(M.rotation_strength(arr, n_shuffles=n_shuffles, seed=seed), f"rot_{side}_")
                for var in rot.data_vars.values():
                    var.attrs["long_name"] = f"{side}: {var.attrs['long_name']}"
                parts.append(rot.drop_attrs(deep=False))
        elif name == "fixed_points":
            x_end = fit["x"].isel(time=-1).values
            parts.append(_prefix(fixed_point_structure(circuit, fit["tonic"].values,
                                                       conditions=list(map(str, fit["condition"].values)),
                                                       final_states=x_end, n_candidates=fp_candidates, seed=seed),
                                 "fp_"))
    bar.close()
    parts.append(pc_projection(data, model))
    # the parts' own attributes are dropped, their variables' descriptions kept
    out = xr.merge([p.drop_attrs(deep=False) for p in parts], compat="override", combine_attrs="drop_conflicts")
    if "r2_neuron" in out:
        out = out.assign_coords(neuron=fit["neuron"].values)
    out.attrs = {"metrics": ",".join(metrics), "n_shuffles": int(n_shuffles), "dsa_shuffles": int(dsa_shuffles),
                 "seed": int(seed), "noise_ceiling": float(fit.attrs.get("noise_ceiling", np.nan)),
                 "holdout": str(fit.attrs.get("holdout", "")), "mode": str(fit.attrs.get("mode", ""))}
    return out
