"""The strict backend catches, on a CPU, the mistakes that break or stall code on CuPy.

Each broken layer below is a mistake that passes on plain NumPy; under "strict" it must fail
with a message that says what to do instead.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import minseq
from minseq import backend, nn
from minseq.strict import HostConversionError, StrictArray


@pytest.fixture
def strict():
    minseq.use_backend("strict")
    yield backend.xp
    minseq.use_backend("numpy")


class AsarrayInForward(nn.Module):
    def forward(self, x):
        return np.asarray(x) * 2           # a host round trip: CuPy raises TypeError here


class FloatInForward(nn.Module):
    def forward(self, x):
        scale = float(x.max())             # a hidden device-to-host copy on every call
        return x / scale


class IfOnArrayInForward(nn.Module):
    def forward(self, x):
        if (x < 0).any():                  # truth-testing a device array: a hidden sync
            x = x * 0
        return x


class PrintInBackward(nn.Module):
    def forward(self, x):
        return x

    def backward(self, dy):
        print(dy)                          # printing a device array mid-computation
        return dy


class IterateInForward(nn.Module):
    def forward(self, x):
        return sum(row for row in x)       # a Python loop over device rows: one sync per row


class TolistInForward(nn.Module):
    def forward(self, x):
        return max(x.tolist())             # the whole array copied to the host


class IntInForward(nn.Module):
    def forward(self, idx):
        return idx[:int(idx.max())]        # a data-dependent shape read silently


class FormatInForward(nn.Module):
    def forward(self, x):
        self.note = f"{x.sum():.3f}"       # formatting a device scalar: a hidden sync
        return x


class ScatterAddLayer(nn.Module):
    def forward(self, idx):
        from minseq.backend import xp
        out = xp.zeros(5)
        xp.scatter_add(out, idx, 1.0)      # removed from CuPy
        return out


def test_np_asarray_on_a_device_array_is_caught(strict):
    with pytest.raises(HostConversionError, match="implicit conversion to a NumPy array"):
        AsarrayInForward()(strict.ones(3))


def test_float_mid_computation_is_caught(strict):
    with pytest.raises(HostConversionError, match=r"float\(\) inside a forward or backward"):
        FloatInForward()(strict.ones(3))


def test_truth_testing_mid_computation_is_caught(strict):
    with pytest.raises(HostConversionError, match="truth testing"):
        IfOnArrayInForward()(strict.ones(3))


def test_printing_mid_computation_is_caught(strict):
    layer = PrintInBackward()
    layer(strict.ones(3))
    with pytest.raises(HostConversionError, match="printing"):
        layer.backward(strict.ones(3))


@pytest.mark.parametrize("layer, what", [(IterateInForward, "iteration"),
                                         (TolistInForward, r"tolist\(\)"),
                                         (IntInForward, r"int\(\)"),
                                         (FormatInForward, "formatting")])
def test_other_implicit_host_reads_are_caught(strict, layer, what):
    x = strict.arange(1, 4)
    with pytest.raises(HostConversionError, match=what + " inside a forward or backward"):
        layer()(x)


def test_plotting_a_device_array_is_caught(strict):
    fig, ax = plt.subplots()
    try:
        with pytest.raises(HostConversionError, match="backend.to_numpy"):
            ax.plot(strict.arange(3.0))
    finally:
        plt.close(fig)


def test_saving_a_device_array_is_caught(strict, tmp_path):
    with pytest.raises(HostConversionError):
        np.save(tmp_path / "x.npy", strict.ones(2))


def test_apis_cupy_lacks_are_caught(strict):
    with pytest.raises(AttributeError, match="xp.scatter_add is not available on CuPy: .*xp.add.at"):
        ScatterAddLayer()(strict.asarray([1, 1, 2]))


def test_explicit_transfers_work(strict):
    x = strict.arange(4.0)
    assert isinstance(x, StrictArray)
    assert backend.to_numpy(x).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x.sum().item() == 6.0


def test_host_code_may_convert_as_on_cupy(strict):
    loss = nn.MSELoss()(strict.ones(3), strict.zeros(3))
    assert float(loss) == 1.0                    # outside forward/backward, as CuPy allows
    assert "StrictArray" in repr(loss)


def test_add_at_accumulates_repeated_indices(strict):
    out = strict.zeros(3)
    strict.add.at(out, strict.asarray([1, 1, 2]), 1.0)
    assert backend.to_numpy(out).tolist() == [0.0, 2.0, 1.0]


def test_layers_compute_the_same_numbers_as_numpy(strict):
    x = np.random.default_rng(0).standard_normal((2, 3))
    minseq.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)).astype(np.float64)
    y = backend.to_numpy(net(backend.asarray(x)))
    state = net.state_dict()
    minseq.use_backend("numpy")
    ref = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)).astype(np.float64)
    ref.load_state_dict(state)
    assert np.array_equal(y, ref(x))


def test_a_numpy_array_is_the_wrong_backend(strict):
    with pytest.raises(TypeError, match="Linear: x must be a strict array"):
        nn.Linear(3, 2)(np.ones((1, 3), dtype=np.float32))


def test_a_strict_array_is_the_wrong_backend_under_numpy():
    with pytest.raises(TypeError, match="Linear: x must be a numpy array .*StrictArray"):
        nn.Linear(3, 2)(StrictArray(np.ones((1, 3), dtype=np.float32)))
