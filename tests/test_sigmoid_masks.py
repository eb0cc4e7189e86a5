"""Masks learned by the paper's method: sigmoid scores with an annealed temperature, binary at evaluation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from neurobias.testing import blobs_split
from neurobias.datasets import Split
from neurobias.errors import InputError
from neurobias.feedforward import MASK_METHODS, BiasNet, fit, hidden_activity
from neurobias.training.schedule import geometric_schedule


def _toy(n: int = 160, d: int = 6, seed: int = 0, classes: int = 3) -> Split:
    return blobs_split(n=n, d=d, seed=seed, classes=classes)


def test_geometric_schedule_starts_at_t0_ends_at_t1_with_a_constant_ratio():
    t = geometric_schedule(11, start=1.0, end=0.01)
    assert t.dtype == np.float64 and t.shape == (11,)
    assert t[0] == 1.0 and t[-1] == 0.01
    ratios = t[1:] / t[:-1]
    np.testing.assert_allclose(ratios, 0.01 ** (1 / 10), rtol=1e-12)
    # closed form at the midpoint: the geometric mean of the ends
    np.testing.assert_allclose(t[5], np.sqrt(1.0 * 0.01), rtol=1e-12)
    assert geometric_schedule(1, start=2.0, end=0.5).tolist() == [2.0]
    assert geometric_schedule(0, start=2.0, end=0.5).size == 0


def test_fit_records_the_annealed_temperatures_and_leaves_binary_masks():
    net = BiasNet(6, (16,), 3, mode="mask", seed=0, dtype=torch.float64)
    res = fit(net, _toy(), steps=21, batch_size=16, lr=0.05, mask_temperature=(2.0, 0.02), progress=False)
    np.testing.assert_allclose(res.mask_temperature, geometric_schedule(21, start=2.0, end=0.02), rtol=0, atol=0)
    assert res.mask_temperature[0] == 2.0 and res.mask_temperature[-1] == 0.02
    assert net.temperature is None
    # evaluation: exactly binary gates, 1[sigmoid(s) > 0.5]
    x = torch.tensor(_toy().x_test, dtype=torch.float64)
    pre = torch.relu(x @ net.weight0.T + net.bias0[0])
    kept = (torch.sigmoid(net.score0[0].detach()) > 0.5).to(torch.float64)
    np.testing.assert_array_equal(net.masks()[0][0].numpy(), kept.numpy())
    assert set(np.unique(net.masks()[0].numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(hidden_activity(net, _toy().x_test), (pre * kept).detach().numpy())


def test_soft_gates_follow_the_temperature_and_carry_gradients():
    net = BiasNet(6, (8,), 3, mode="mask", seed=0, dtype=torch.float64)
    with torch.no_grad():
        net.score0.copy_(torch.linspace(-1, 1, 8, dtype=torch.float64).expand(1, 8))
    x = torch.tensor(_toy().x_test[:5], dtype=torch.float64)
    net.temperature = 0.5
    h = net.hidden(x, 0)[0]
    pre = torch.relu(x @ net.weight0.T + net.bias0[0]).detach().numpy()
    expected = pre * (1.0 / (1.0 + np.exp(-np.linspace(-1, 1, 8) / 0.5)))
    np.testing.assert_allclose(h.detach().numpy(), expected, rtol=1e-12)
    net(x).sum().backward()
    assert net.score0.grad.abs().sum() > 0
    net.temperature = None
    gated = net.hidden(x, 0)[0].detach().numpy()
    np.testing.assert_array_equal(gated, pre * (np.linspace(-1, 1, 8) > 0))


@pytest.mark.parametrize("method", MASK_METHODS)
def test_a_tiny_mask_fit_learns(method):
    net = BiasNet(6, (256,), 3, mode="mask", mask_method=method, init="gaussian", seed=0, dtype=torch.float64)
    res = fit(net, _toy(), steps=150, batch_size=32, lr=0.1, progress=False)
    assert res.loss[-10:].mean() < res.loss[:10].mean() - 0.1, (res.loss[:10].mean(), res.loss[-10:].mean())
    assert res.train_accuracy[0] > 0.9  # of the binary (evaluation) masks
    assert (res.mask_temperature.size > 0) == (method == "sigmoid")


def test_bad_mask_options_name_the_argument():
    with pytest.raises(InputError, match="`mask_method` must be one of 'sigmoid', 'straight_through'; got 'soft'"):
        BiasNet(6, (8,), 3, mode="mask", mask_method="soft")
    net = BiasNet(6, (8,), 3, mode="mask")
    for bad in ((0.01, 1.0), (1.0, 0.0), (1.0,), 1.0, (1.0, float("nan")), ("a", 0.1), (True, 0.1)):
        with pytest.raises(InputError, match=r"`mask_temperature` must be a pair \(T0, T1\)"):
            fit(net, _toy(), steps=2, mask_temperature=bad, progress=False)
