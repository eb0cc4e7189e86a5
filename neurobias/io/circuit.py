"""Circuits to and from ``circuit`` Datasets, and weight fingerprints (:func:`neurobias.io.hashing.sha256_array`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, SchemaError, check_instance, coerce
from neurobias.io.hashing import sha256_array
from neurobias.io.schema import validate

if TYPE_CHECKING:
    from neurobias.circuit.circuit import Circuit

__all__ = ["circuit_to_dataset", "circuit_from_dataset", "weight_hashes", "provenance_attrs",
           "WEIGHT_NAMES"]

WEIGHT_NAMES: tuple[str, ...] = ("W_rec", "W_in", "W_out", "b_out")


def weight_hashes(circuit: "Circuit") -> dict[str, str]:
    """The sha256 fingerprint of each weight of a circuit, as in its ``circuit.nc``.

    Parameters
    ----------
    circuit : Circuit

    Returns
    -------
    dict of str to str
        ``{name: sha256_array(weight)}`` for every name in :data:`WEIGHT_NAMES`;
        equal to the ``sha256_<name>`` attributes of the circuit's file.
    """
    from neurobias.circuit.circuit import Circuit

    check_instance("circuit", circuit, Circuit, what="a Circuit")
    return {name: sha256_array(np.asarray(getattr(circuit, name), dtype=np.float64)) for name in WEIGHT_NAMES}


def provenance_attrs(circuit: "Circuit", *, config_toml: str, seed: int, tonic: Any = None,
                     recording: xr.Dataset | None = None) -> dict[str, Any]:
    """The attributes by which a result file can be traced to what produced it.

    Every public result file carries them (``neurobias_version`` is added by
    :func:`neurobias.io.write_dataset`): with the config and the seed the run
    can be repeated, and the weight fingerprints tell which circuit file (and,
    with ``tonic``, which tonic inputs) the result belongs to.

    Parameters
    ----------
    circuit : Circuit
        The circuit the result was computed with (the one in ``circuit.nc``).
    config_toml : str
        The resolved run config as TOML text.
    seed : int
        The run's seed (``seed`` of the config).
    tonic : array_like of shape (context, unit), optional
        The run's tonic-input bank (``tonic`` of its ``results.nc``), state units.
    recording : xarray.Dataset, optional
        The recording a fit was computed from (with its ``rate`` variable).

    Returns
    -------
    dict
        ``config`` (str), ``run_seed`` (int), ``circuit_sha256_<name>`` for
        each weight (see :func:`weight_hashes`), with ``tonic`` ``tonic_sha256``
        and with ``recording`` ``recording_sha256`` (of its ``rate`` array).
    """
    check_instance("config_toml", config_toml, str, what="a str of TOML text")
    coerce(seed, int, name="seed")
    attrs: dict[str, Any] = {"config": config_toml, "run_seed": int(seed)}
    attrs.update({f"circuit_sha256_{name}": digest for name, digest in weight_hashes(circuit).items()})
    if tonic is not None:
        attrs["tonic_sha256"] = sha256_array(tonic)
    if recording is not None:
        attrs["recording_sha256"] = sha256_array(recording["rate"].values)
    return attrs


def circuit_to_dataset(circuit: "Circuit", *, config_toml: str = "") -> xr.Dataset:
    """A ``circuit`` Dataset holding the circuit's weights and description.

    Parameters
    ----------
    circuit : Circuit
    config_toml : str
        The resolved run config as TOML text ("" if none).

    Returns
    -------
    xarray.Dataset
        Variables ``W_rec (unit, unit_pre)``, ``W_in (unit, input)``,
        ``W_out (output, unit)``, ``b_out (output,)``; coordinates ``unit``,
        ``unit_pre`` (ints), ``input``, ``output`` (names); attributes
        ``tau`` (ms), ``phi``, ``form``, ``seed`` (-1 for None),
        ``connectivity``, ``config`` and ``sha256_<weight>`` for each weight.
        ``input`` and ``output`` may have length 0.
    """
    from neurobias.circuit.circuit import Circuit

    check_instance("circuit", circuit, Circuit, what="a Circuit")
    check_instance("config_toml", config_toml, str, what="a str of TOML text")
    n = circuit.n_units
    weights = {name: np.array(getattr(circuit, name), dtype=np.float64) for name in WEIGHT_NAMES}
    ds = xr.Dataset(
        data_vars={
            "W_rec": (("unit", "unit_pre"), weights["W_rec"], {"long_name": "recurrent weights (from unit_pre onto unit)"}),
            "W_in": (("unit", "input"), weights["W_in"], {"long_name": "input weights"}),
            "W_out": (("output", "unit"), weights["W_out"], {"long_name": "readout weights"}),
            "b_out": (("output",), weights["b_out"], {"long_name": "readout offset"}),
        },
        coords={
            "unit": ("unit", np.arange(n, dtype=np.int64)),
            "unit_pre": ("unit_pre", np.arange(n, dtype=np.int64)),
            "input": ("input", np.array(list(circuit.input_names), dtype=str).reshape(-1)),
            "output": ("output", np.array(list(circuit.output_names), dtype=str).reshape(-1)),
        },
        attrs={
            "tau": float(circuit.tau),
            "tau_units": "ms",
            "phi": str(circuit.phi),
            "form": str(circuit.form),
            "seed": -1 if circuit.seed is None else int(circuit.seed),
            "connectivity": str(circuit.connectivity),
            "config": config_toml,
            **{f"sha256_{name}": sha256_array(w) for name, w in weights.items()},
        },
    )
    return ds


def circuit_from_dataset(ds: xr.Dataset) -> "Circuit":
    """Rebuild a :class:`Circuit` from a ``circuit`` Dataset.

    Validates the dataset and checks every weight against its
    ``sha256_<weight>`` attribute.

    Parameters
    ----------
    ds : xarray.Dataset

    Returns
    -------
    Circuit
        ``seed`` -1 becomes None.

    Raises
    ------
    SchemaError
        If the dataset is not a valid ``circuit`` dataset, a weight does not
        match its fingerprint (the file was modified or corrupted), or the
        values do not make a valid circuit.
    """
    from neurobias.circuit.circuit import Circuit

    validate(ds, "circuit")
    weights: dict[str, np.ndarray] = {}
    for name in WEIGHT_NAMES:
        arr = np.array(ds[name].values, dtype=np.float64)
        digest = sha256_array(arr)
        if digest != ds.attrs[f"sha256_{name}"]:
            raise SchemaError(
                f"circuit variable `{name}` does not match its attribute `sha256_{name}` "
                f"(expected {ds.attrs[f'sha256_{name}'][:12]}..., got {digest[:12]}...): "
                f"the weights were modified or corrupted"
            )
        weights[name] = arr
    seed = int(ds.attrs["seed"])
    try:
        return Circuit.from_arrays(
            **weights,
            tau=float(ds.attrs["tau"]),
            phi=str(ds.attrs["phi"]),
            form=str(ds.attrs["form"]),
            input_names=tuple(str(v) for v in ds["input"].values),
            output_names=tuple(str(v) for v in ds["output"].values),
            seed=None if seed < 0 else seed,
            connectivity=str(ds.attrs["connectivity"]),
        )
    except InputError as exc:
        raise SchemaError(f"circuit dataset does not describe a valid circuit: {exc}") from None
