"""A torch module that holds a circuit's weights (trainable or frozen) and its tonic bank."""
from __future__ import annotations


import torch
from torch import Tensor, nn

from neurobias.circuit.circuit import Circuit
from neurobias.circuit.simulate import integrate
from neurobias.errors import check_choice
from neurobias.io.hashing import sha256_array
from neurobias.training.tonic import TonicBank

__all__ = ["MODES", "TRAINED_WEIGHTS", "CircuitModel"]

MODES: tuple[str, ...] = ("bias", "bias+readout", "readout", "full")

# Which circuit weights each mode trains, and whether it trains the tonic bank.
TRAINED_WEIGHTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "bias": ((), True),
    "bias+readout": (("W_out", "b_out"), True),
    "readout": (("W_out", "b_out"), False),
    "full": (("W_rec", "W_in", "W_out", "b_out"), True),
}


class CircuitModel(nn.Module):
    """Circuit weights plus tonic bank; weights a mode does not train are buffers.

    Parameters
    ----------
    circuit : Circuit
    bank : TonicBank
    mode : {"bias", "bias+readout", "readout", "full"}
    dtype : torch.dtype
    """

    def __init__(self, circuit: Circuit, bank: TonicBank, *, mode: str, dtype: torch.dtype) -> None:
        super().__init__()
        check_choice("mode", mode, MODES)
        self.mode = mode
        self.circuit = circuit  # the form, tau and phi; the weights below are this module's
        trained, bank_trained = TRAINED_WEIGHTS[mode]
        for name, arr in circuit.weights().items():
            t = torch.tensor(arr, dtype=dtype)
            if name in trained:
                setattr(self, name, nn.Parameter(t))
            else:
                self.register_buffer(name, t)
        self.bank = bank
        bank.requires_grad_(bank_trained)

    def frozen_names(self) -> tuple[str, ...]:
        """Names of the circuit weights this mode keeps fixed."""
        return tuple(n for n in ("W_rec", "W_in", "W_out", "b_out") if n not in TRAINED_WEIGHTS[self.mode][0])

    def frozen_hashes(self) -> dict[str, str]:
        """Fingerprint (:func:`neurobias.io.hashing.sha256_array`) of every frozen weight, by name."""
        return {n: sha256_array(getattr(self, n)) for n in self.frozen_names()}

    def forward(
        self, inputs: Tensor, x0: Tensor, *, dt: float, method: str, noise_std: float = 0.0,
        generator: torch.Generator | None = None, checkpoint_chunk: int = 0,
    ) -> tuple[Tensor | None, Tensor]:
        """Run every context.

        Parameters
        ----------
        inputs : Tensor of shape (context, trial, time, input)
        x0 : Tensor of shape (context, trial, unit)
        checkpoint_chunk : int
            When > 0 and autograd is recording, integrate in chunks of this
            many steps under :func:`torch.utils.checkpoint.checkpoint`: only
            each chunk's first state and the readout are kept for the
            backward pass, and the chunk is integrated again during it
            (memory of BPTT ~ ``T / chunk + chunk`` states instead of ``T``,
            for about one more forward pass of time).  The noise of a chunk is
            drawn again from the same generator state, so losses and
            gradients are identical to ``checkpoint_chunk=0``.

        Returns
        -------
        x : Tensor of shape (context, trial, time, unit), or None
            The states (None when checkpointing: they are not kept).
        z : Tensor of shape (context, trial, time, output)
        """
        tonic = self.bank()
        if checkpoint_chunk <= 0 or not torch.is_grad_enabled():
            ext = self._external(inputs, tonic, self.W_in)
            x = integrate(x0, ext, self.circuit.dynamics(W_rec=self.W_rec), dt=dt, method=method,
                          noise_std=noise_std, generator=generator)
            return x, self._readout(x, self.W_out, self.b_out)
        from torch.utils.checkpoint import checkpoint

        zs = []
        x = x0
        n_time = inputs.shape[-2]
        for start in range(0, n_time, checkpoint_chunk):
            state = generator.get_state() if (noise_std > 0 and generator is not None) else None
            # the drive is formed inside the chunk: only the chunk's inputs, not its drive, are kept
            x, z = checkpoint(self._chunk, x, inputs[..., start:start + checkpoint_chunk, :], tonic, self.W_in,
                              self.W_rec, self.W_out, self.b_out, state, dt, method, noise_std, generator,
                              use_reentrant=False, preserve_rng_state=False)
            zs.append(z)
        return None, torch.cat(zs, dim=-2)

    @staticmethod
    def _external(inputs: Tensor, tonic: Tensor, W_in: Tensor) -> Tensor:
        """The external drive ``W_in u + b`` of shape (context, trial, time, unit)."""
        return inputs @ W_in.T + tonic[:, None, None, :]

    def _readout(self, x: Tensor, W_out: Tensor, b_out: Tensor) -> Tensor:
        return self.circuit.dynamics(W_rec=self.W_rec).readout(x, W_out, b_out)

    def _chunk(self, x: Tensor, inputs: Tensor, tonic: Tensor, W_in: Tensor, W_rec: Tensor, W_out: Tensor,
               b_out: Tensor, state: Tensor | None, dt: float, method: str, noise_std: float,
               generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        """Integrate one chunk and read it out; returns (last state, readout of the chunk)."""
        if state is not None:
            generator.set_state(state)  # the same noise when the chunk is integrated again for backward
        xs = integrate(x, self._external(inputs, tonic, W_in), self.circuit.dynamics(W_rec=W_rec), dt=dt,
                       method=method, noise_std=noise_std, generator=generator)
        return xs[..., -1, :], self._readout(xs, W_out, b_out)

    def trained_circuit(self, circuit: Circuit) -> Circuit:
        """The circuit with this model's trained weights (the same object if none were trained)."""
        trained = TRAINED_WEIGHTS[self.mode][0]
        if not trained:
            return circuit
        weights = {n: getattr(self, n).detach().cpu().double().numpy() for n in trained}
        # the seed now names only the initial draw: the label says which weights training changed
        label = f"{circuit.connectivity}, then {', '.join(trained)} trained ({self.mode} mode)"
        return circuit.replace(**weights, connectivity=label)
