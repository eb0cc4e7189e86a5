"""Tests of the data sets: sources, derived tasks and the idx reader (neurobias.datasets)."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from neurobias.datasets import (
    Split, digits, load, load_idx_dataset, magnitude, mnist1d, pad_features, parity, permuted, read_idx,
    rotated, write_idx,
)
from neurobias.errors import InputError


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    arr = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / f"a-idx3{suffix}", arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_idx_header_is_the_documented_format(tmp_path):
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    raw = write_idx(tmp_path / "x", arr).read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 2])
    assert raw[4:12] == bytes([0, 0, 0, 2, 0, 0, 0, 3])
    assert raw[12:] == bytes(range(6))
    big = np.array([1, 256], dtype=np.int32)
    raw = write_idx(tmp_path / "y", big).read_bytes()
    assert raw[8:] == bytes([0, 0, 0, 1, 0, 0, 1, 0])  # big-endian
    gz = write_idx(tmp_path / "z.gz", arr).read_bytes()
    assert gzip.decompress(gz)[:4] == bytes([0, 0, 0x08, 2])


def test_idx_reader_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(InputError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]))
    with pytest.raises(InputError, match="must hold 4 bytes"):
        read_idx(tmp_path / "short")
    (tmp_path / "type").write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 1]))
    with pytest.raises(InputError, match="type code"):
        read_idx(tmp_path / "type")
    (tmp_path / "x.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match="gzip"):
        read_idx(tmp_path / "x.gz")
    with pytest.raises(InputError, match="not found"):
        read_idx(tmp_path / "missing")


def test_load_idx_dataset_from_tiny_mnist_family_files(tmp_path):
    rng = np.random.default_rng(1)
    xtr = rng.integers(0, 256, size=(7, 4, 3), dtype=np.uint8)
    ytr = rng.integers(0, 10, size=7).astype(np.uint8)
    xte = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    yte = np.arange(5, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", xtr)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", ytr)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", xte)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", yte)
    ds = load_idx_dataset(tmp_path, name="kmnist-tiny")
    assert ds.name == "kmnist-tiny" and ds.n_features == 12
    np.testing.assert_allclose(ds.x_train, xtr.reshape(7, 12) / 255.0)
    np.testing.assert_array_equal(ds.y_test, np.arange(5))
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(InputError, match="t10k-labels-idx1-ubyte"):
        load_idx_dataset(tmp_path)


def test_load_idx_dataset_checks_sha256_and_reads_the_environment(tmp_path, monkeypatch):
    import hashlib

    x = np.arange(2 * 2 * 2, dtype=np.uint8).reshape(2, 2, 2)
    y = np.array([3, 1], dtype=np.uint8)
    for key, stem in (("x_train", "train-images-idx3-ubyte"), ("y_train", "train-labels-idx1-ubyte"),
                      ("x_test", "t10k-images-idx3-ubyte"), ("y_test", "t10k-labels-idx1-ubyte")):
        write_idx(tmp_path / stem, x if key.startswith("x") else y)
    # the sha256 of the bytes as written, computed here from the documented header (not by the code under test)
    raw = bytes([0, 0, 0x08, 3]) + (2).to_bytes(4, "big") * 3 + bytes(range(8))
    good = hashlib.sha256(raw).hexdigest()
    assert (tmp_path / "train-images-idx3-ubyte").read_bytes() == raw
    ds = load_idx_dataset(tmp_path, sha256={"x_train": good.upper(), "x_test": good})
    np.testing.assert_array_equal(ds.y_train, [3, 1])
    with pytest.raises(InputError, match=r"train-images-idx3-ubyte must have sha256 0{64}; got " + good):
        load_idx_dataset(tmp_path, sha256={"x_train": "0" * 64})
    with pytest.raises(InputError, match="`sha256` keys must be among x_train, y_train, x_test, y_test; got images"):
        load_idx_dataset(tmp_path, sha256={"images": good})
    monkeypatch.delenv("NEUROBIAS_FASHION_MNIST_DIR", raising=False)
    with pytest.raises(InputError, match="NEUROBIAS_FASHION_MNIST_DIR is not set"):
        load_idx_dataset(name="fashion-mnist")
    monkeypatch.setenv("NEUROBIAS_FASHION_MNIST_DIR", str(tmp_path))
    assert load_idx_dataset(name="fashion-mnist").name == "fashion-mnist"


def test_digits():
    s = digits()
    assert s.n_features == 64 and s.n_classes == 10
    assert len(s.y_train) + len(s.y_test) == 1797
    assert s.x_train.min() >= 0 and s.x_train.max() == 1.0
    assert not s.x_train.flags.writeable
    np.testing.assert_array_equal(digits(seed=3).y_test, digits(seed=3).y_test)
    assert not np.array_equal(digits(seed=3).y_test, digits(seed=4).y_test)


def test_mnist1d_is_generated_locally_without_side_effects():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    s = mnist1d()
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert s.x_train.shape == (4000, 40) and s.x_test.shape == (1000, 40)
    assert np.bincount(np.concatenate([s.y_train, s.y_test])).tolist() == [500] * 10
    small = mnist1d(n_samples=100, seed=1)
    assert small.x_train.shape == (80, 40)
    with pytest.raises(InputError, match="`n_samples`"):
        mnist1d(n_samples=5)


def test_derived_tasks():
    s = digits()
    np.testing.assert_array_equal(parity(s).y_train, s.y_train % 2)
    np.testing.assert_array_equal(magnitude(s).y_test, (s.y_test >= 5).astype(int))
    assert parity(s).n_classes == 2 and parity(s).name == "digits-parity"
    r = rotated(s)
    np.testing.assert_array_equal(r.x_train[0].reshape(8, 8), np.rot90(s.x_train[0].reshape(8, 8)))
    np.testing.assert_array_equal(rotated(s, quarter_turns=4).x_train, s.x_train)
    p = permuted(s, seed=2)
    np.testing.assert_array_equal(np.sort(p.x_train, axis=1), np.sort(s.x_train, axis=1))
    assert not np.array_equal(p.x_train, s.x_train)
    np.testing.assert_array_equal(pad_features(s, 70).x_test[:, :64], s.x_test)
    assert load("digits-rotated").name == "digits-rotated"
    with pytest.raises(InputError, match="`image_shape`"):
        rotated(mnist1d())
    with pytest.raises(InputError, match="`name`"):
        load("cifar")
    with pytest.raises(InputError, match="`derivation`"):
        load("digits-flipped")


def test_split_validation():
    with pytest.raises(InputError, match="`y_train`"):
        Split.make(name="a", x_train=np.zeros((3, 2)), y_train=np.zeros(2, int), x_test=np.zeros((1, 2)),
                   y_test=np.zeros(1, int))
    with pytest.raises(InputError, match="labels"):
        Split.make(name="a", x_train=np.zeros((2, 2)), y_train=np.array([0, 3]), x_test=np.zeros((1, 2)),
                   y_test=np.zeros(1, int), n_classes=2)
    s = digits().subsample(n_train=10, n_test=5, seed=0)
    assert s.x_train.shape == (10, 64) and s.x_test.shape == (5, 64)
