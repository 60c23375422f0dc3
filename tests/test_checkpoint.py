"""Checkpoints: round trip, atomic writes, corrupted files and mismatched models named clearly."""

import re

import numpy as np
import pytest

import minseq
from minseq import backend, checkpoint, nn, optim


def net(hidden=4):
    return nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 2))


def trained(xp):
    model = net()
    opt = optim.Adam(model, lr=0.1)
    model(xp.ones((2, 3), dtype=xp.float32))
    model.backward(xp.ones((2, 2), dtype=xp.float32))
    opt.step()
    return model, opt


def test_round_trip_with_optimiser_and_config(xp, tmp_path):
    model, opt = trained(xp)
    path = checkpoint.save(tmp_path / "m.npz", model, opt, {"hidden": 4, "epoch": 3})
    other, other_opt = net(), optim.Adam(net(), lr=0.1)
    other_opt.module = other
    config = checkpoint.load(path, other, other_opt)
    assert config == {"hidden": 4, "epoch": 3}
    for (_, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        assert (backend.to_numpy(a) == backend.to_numpy(b)).all()
    assert other_opt.steps == 1
    assert np.array_equal(backend.to_numpy(other_opt.state["layers.0.W"]["v"]),
                          backend.to_numpy(opt.state["layers.0.W"]["v"]))


def test_file_holds_host_arrays_only(xp, tmp_path):
    model, opt = trained(xp)
    path = checkpoint.save(tmp_path / "m.npz", model, opt)
    with np.load(path, allow_pickle=False) as archive:
        assert all(archive[k].dtype != object for k in archive.files)


def test_a_failed_save_leaves_the_previous_file_intact(xp, tmp_path, monkeypatch):
    model, _ = trained(xp)
    path = checkpoint.save(tmp_path / "m.npz", model, config={"version": 1})
    before = path.read_bytes()

    def crash(f, **arrays):
        f.write(b"half an archive")
        raise OSError("disk full")
    monkeypatch.setattr(checkpoint.np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, model, config={"version": 2})
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path], "the temporary file was not cleaned up"


def test_truncated_file_is_a_clear_error(xp, tmp_path):
    path = checkpoint.save(tmp_path / "m.npz", net())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(checkpoint.CheckpointError, match="truncated or corrupted"):
        checkpoint.load(path, net())


def test_pickled_content_is_refused(xp, tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, config=np.array(["{}"]), payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(checkpoint.CheckpointError, match="unreadable"):
        checkpoint.load(path, net())


def test_other_shape_names_the_tensor(xp, tmp_path):
    path = checkpoint.save(tmp_path / "m.npz", net(hidden=4))
    with pytest.raises(checkpoint.CheckpointError, match=r"'layers.0.W' has shape \(3, 4\), expected \(3, 5\)"):
        checkpoint.load(path, net(hidden=5))


def test_missing_file(xp, tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="no such file"):
        checkpoint.load(tmp_path / "none.npz", net())


def test_not_a_checkpoint(xp, tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(checkpoint.CheckpointError, match="not a minseq checkpoint"):
        checkpoint.load(path, net())


@pytest.mark.parametrize("saved_on, loaded_on", [("strict", "numpy"), ("numpy", "strict")])
def test_a_checkpoint_moves_between_device_and_host(tmp_path, saved_on, loaded_on):
    """Saved from device arrays (strict stands in for CuPy) it loads on the CPU, and the
    reverse: the file holds host arrays, and training continues with the same numbers."""
    try:
        minseq.use_backend(saved_on)
        model, opt = trained(backend.xp)
        path = checkpoint.save(tmp_path / "m.npz", model, opt, {"epoch": 1})
        x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
        expected = backend.to_numpy(model(backend.asarray(x)))
        minseq.use_backend(loaded_on)
        other = net()
        other_opt = optim.Adam(other, lr=0.1)
        assert checkpoint.load(path, other, other_opt) == {"epoch": 1}
        assert all(isinstance(p, backend.xp.ndarray) for _, p in other.named_parameters())
        assert np.array_equal(backend.to_numpy(other(backend.asarray(x))), expected)
        other.backward(backend.xp.ones((2, 2), dtype=backend.xp.float32))
        other_opt.step()                     # the optimiser state arrived on this backend
        assert other_opt.steps == 2
    finally:
        minseq.use_backend("numpy")


@pytest.mark.parametrize("content, said", [
    (b"", "empty file"),
    (b"user item\n1 2\n", "not a minseq checkpoint"),
    (b"\x93NUMPY\x01\x00", "not a minseq checkpoint"),   # a .npy array, not an archive
])
def test_a_file_that_is_no_archive_is_named_for_what_it_is(tmp_path, content, said):
    """Named before NumPy reads it: NumPy's own message for such a file is about pickles."""
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(checkpoint.CheckpointError, match=re.escape(f"checkpoint {path}: {said}")) as caught:
        checkpoint.read(path)
    assert "pickle" not in str(caught.value)


def test_a_folder_is_not_a_checkpoint(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="is a folder, not a checkpoint file"):
        checkpoint.read(tmp_path)
