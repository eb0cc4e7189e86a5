"""Tests of the feed-forward bias-learning model (neurobias.feedforward)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from neurobias.testing import blobs_split
from neurobias.datasets import Split, digits, pad_features
from neurobias.errors import InputError
from neurobias.feedforward import FF_MODES, BiasNet, accuracy, fit, hidden_activity, trained_parameter_count
from neurobias.reproduce.settings import get_settings


def _toy(n: int = 120, d: int = 6, seed: int = 0, classes: int = 3) -> Split:
    return blobs_split(n=n, d=d, seed=seed, classes=classes)


def _bytes(net: BiasNet) -> dict[str, bytes]:
    return {name: buf.detach().numpy().tobytes() for name, buf in net.named_buffers()}


@pytest.mark.parametrize("mode", ["bias", "readout", "bias+readout", "mask"])
def test_fixed_weights_are_byte_identical_after_training(mode):
    net = BiasNet(6, (32,), 3, mode=mode, seed=1)
    before = _bytes(net)
    weight_before = net.weight0.detach().numpy().tobytes()
    res = fit(net, _toy(), steps=30, batch_size=16, lr=0.05, progress=False)
    assert _bytes(net) == before
    assert res.hashes_before == res.hashes_after and res.hashes_before
    assert "weight0" in res.hashes_before
    assert net.weight0.detach().numpy().tobytes() == weight_before


def test_bias_mode_trains_only_biases():
    net = BiasNet(6, (32,), 3, mode="bias", seed=1)
    names = {n for n, p in net.named_parameters() if p.requires_grad}
    assert names == {"bias0", "b_out"}
    b0 = net.bias0.detach().clone()
    fit(net, _toy(), steps=20, batch_size=16, lr=0.05, progress=False)
    assert not torch.equal(b0, net.bias0.detach())


def test_full_mode_changes_weights():
    net = BiasNet(6, (32,), 3, mode="full", seed=1)
    w0 = net.weight0.detach().clone()
    res = fit(net, _toy(), steps=20, batch_size=16, lr=0.01, progress=False)
    assert not torch.equal(w0, net.weight0.detach())
    assert "weight0" not in res.hashes_before


@pytest.mark.parametrize("mode", FF_MODES)
def test_trained_parameter_count_matches_the_module(mode):
    net = BiasNet(7, (11, 5), 4, mode=mode, seed=0)
    counted = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert trained_parameter_count(7, (11, 5), 4, mode=mode) == counted


def test_same_seed_same_result_and_same_weights_across_modes():
    a, b = BiasNet(6, (16,), 3, seed=4), BiasNet(6, (16,), 3, seed=4)
    ra = fit(a, _toy(), steps=10, batch_size=8, progress=False)
    rb = fit(b, _toy(), steps=10, batch_size=8, progress=False)
    np.testing.assert_array_equal(ra.loss, rb.loss)
    full = BiasNet(6, (16,), 3, mode="full", seed=4)
    torch.testing.assert_close(full.weight0, BiasNet(6, (16,), 3, mode="mask", seed=4).weight0, rtol=0, atol=0)


def test_uniform_init_range_and_gaussian_scale():
    net = BiasNet(50, (4000,), 2, init="uniform", gamma=0.1, seed=0)
    w = net.weight0.numpy()
    assert w.min() >= -0.1 and w.max() <= 0.1 and w.max() > 0.099
    g = BiasNet(50, (4000,), 2, init="gaussian", seed=0).weight0.numpy()
    assert g.std() == pytest.approx(1 / np.sqrt(50), rel=0.02)


def test_tasks_are_independent_inside_one_network():
    t0, t1 = _toy(seed=0), _toy(seed=1, classes=2)
    net = BiasNet(6, (16,), (3, 2), n_tasks=2, mode="bias", seed=0)
    loss = torch.nn.functional.cross_entropy(net(torch.tensor(t0.x_train, dtype=torch.float32), 0),
                                             torch.tensor(t0.y_train))
    loss.backward()
    assert net.bias0.grad[0].abs().sum() > 0
    assert net.bias0.grad[1].abs().sum() == 0
    assert net(torch.zeros(2, 6), 1).shape == (2, 2)


def test_mask_is_binary_with_straight_through_gradient():
    net = BiasNet(6, (16,), 3, mode="mask", mask_method="straight_through", seed=0)
    h = hidden_activity(net, _toy().x_test)
    kept = net.masks()[0][0].numpy()
    assert set(np.unique(kept)) <= {0.0, 1.0}
    assert np.all(h[:, kept == 0] == 0)
    out = net(torch.tensor(_toy().x_test, dtype=torch.float32)).sum()
    out.backward()
    assert net.score0.grad.abs().sum() > 0


def test_bias_only_accuracy_on_digits_rises_with_width_in_the_quick_setting():
    s = get_settings("quick")
    split = digits()
    acc = []
    for width in (s.widths[0], s.widths[-1]):
        net = BiasNet(64, (width,), 10, mode="bias", seed=0)
        acc.append(fit(net, split, steps=s.ff_steps, batch_size=s.ff_batch, lr=0.01, progress=False).test_accuracy[0])
    assert acc[1] > acc[0] + 0.2, acc
    assert acc[1] > 0.6


def test_accuracy_counts_correct_arg_max():
    net = BiasNet(6, (8,), 3, seed=0)
    x = _toy().x_test
    with torch.no_grad():
        pred = net(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()
    assert accuracy(net, x, pred) == 1.0
    assert accuracy(net, x, (pred + 1) % 3) == 0.0


def test_errors_name_the_argument():
    with pytest.raises(InputError, match="`mode`"):
        BiasNet(6, (8,), 3, mode="weights")
    with pytest.raises(InputError, match="`hidden`"):
        BiasNet(6, (), 3)
    with pytest.raises(InputError, match="`n_outputs`"):
        BiasNet(6, (8,), (3, 2), n_tasks=3)
    with pytest.raises(InputError, match="features"):
        fit(BiasNet(5, (8,), 3), _toy(), steps=1, progress=False)
    with pytest.raises(InputError, match="`tasks`"):
        fit(BiasNet(6, (8,), 3, n_tasks=2), _toy(), steps=1, progress=False)
    with pytest.raises(InputError, match="`lr`"):
        fit(BiasNet(6, (8,), 3), _toy(), steps=1, lr=-1.0, progress=False)
    with pytest.raises(InputError, match="`task`"):
        BiasNet(6, (8,), 3)(torch.zeros(1, 6), 2)


def test_padding_keeps_the_network_output():
    s = _toy()
    padded = pad_features(s, 9)
    assert padded.n_features == 9 and np.all(padded.x_train[:, 6:] == 0)


def test_fit_on_device_cpu_is_the_default_fit():
    a, b = BiasNet(6, (16,), 3, seed=4), BiasNet(6, (16,), 3, seed=4)
    ra = fit(a, _toy(), steps=10, batch_size=8, progress=False)
    rb = fit(b, _toy(), steps=10, batch_size=8, progress=False, device=torch.device("cpu"))
    np.testing.assert_array_equal(ra.loss, rb.loss)
    np.testing.assert_array_equal(ra.test_accuracy, rb.test_accuracy)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert b.W_out.device == torch.device("cpu")


def test_fit_refuses_a_device_it_cannot_use():
    net = BiasNet(6, (8,), 3, seed=0)
    with pytest.raises(InputError, match="`device`"):
        fit(net, _toy(), steps=1, progress=False, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="`device` is 'cuda'"):
            fit(net, _toy(), steps=1, progress=False, device="cuda")
