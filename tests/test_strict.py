"""The strict backend catches, on a CPU, the mistakes that break or stall code on CuPy.

Each broken layer below is a mistake that passes on plain NumPy; under "strict" it must fail
with a message that says what to do instead.
"""

import copy
import operator
import pickle
import threading

import matplotlib.pyplot as plt
import numpy as np
import pytest

import minseq
from minseq import backend, nn
from minseq.cupy_api import GENERATOR_METHODS
from minseq.strict import CupyMismatchError, HostConversionError, StrictArray, count_syncs


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


def test_a_forward_on_another_thread_is_caught_there_and_only_there(strict):
    """The compute path is per thread: the fast tier's batch shards run forwards on threads of
    their own, while the caller's thread may read an array on the host outside one."""
    errors, inside, done = [], threading.Event(), threading.Event()

    class Waits(nn.Module):
        def forward(self, x):
            inside.set()
            done.wait()                                # set by the caller, whatever happens
            try:
                float(x[0])
            except HostConversionError as exc:
                errors.append(exc)
            return x
    worker = threading.Thread(target=Waits(), args=(strict.ones(3),))
    worker.start()
    try:
        # the ready signal, not a time: the worker is inside its forward from here on
        assert inside.wait(60), "the worker never entered its forward"
        assert float(strict.ones(3)[0]) == 1.0    # this thread is outside any forward
    finally:
        done.set()
        worker.join()
    assert len(errors) == 1


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


def test_outside_the_compute_path_a_device_array_gives_numpys_values(strict):
    """Host code (tests, the trainer) converts, copies, formats and assigns as on NumPy, and
    NumPy's own functions on device arrays give device arrays of NumPy's values."""
    x = strict.asarray([[1.5, -2.0], [3.0, 4.0]])
    assert bool(strict.asarray(True)) and not bool(strict.asarray(0.0))
    assert int(strict.asarray(7)) == 7 and float(x[1, 0]) == 3.0
    assert f"{x.sum():.2f}" == "6.50" and repr(strict.asarray([2.0])) == "StrictArray([2.])"
    assert [backend.to_numpy(row).tolist() for row in x] == [[1.5, -2.0], [3.0, 4.0]]
    for same in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert isinstance(same, StrictArray) and backend.to_numpy(same).tolist() == x.tolist()
    y = strict.zeros(4)
    y[1:3] = strict.asarray([5.0, 6.0])
    assert y.tolist() == [0.0, 5.0, 6.0, 0.0] and y.T.shape == (4,)
    joined = np.concatenate([x, x], axis=1)
    assert isinstance(joined, StrictArray) and joined.tolist() == [[1.5, -2.0, 1.5, -2.0],
                                                                   [3.0, 4.0, 3.0, 4.0]]
    assert x.sum(axis=0).tolist() == [4.5, 2.0] and strict.linalg.norm(x).item() > 5.0
    with count_syncs() as n:
        bool(strict.asarray(True)), float(x[0, 0]), int(strict.asarray(1)), x.tolist()
        x.get()
    assert n.reads == ["bool", "float", "int", "tolist", "get"]


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


# -- what CuPy refuses outright: NumPy arrays among device arrays, index(), generators, .at ------
class HostMaskInForward(nn.Module):
    def forward(self, x):
        keep = np.random.default_rng(0).random(x.shape) > 0.5   # a NumPy mask: a host array
        return x * keep


@pytest.mark.parametrize("mix", [
    lambda xp, host: xp.ones(3) + host,                      # an operator
    lambda xp, host: host * xp.ones(3),                      # reflected: NumPy on the left
    lambda xp, host: xp.add(xp.ones(3), host),               # a ufunc
    lambda xp, host: xp.where(xp.ones(3) > 0, host, 0.0),    # an xp function
    lambda xp, host: xp.concatenate([xp.ones(3), host]),     # ... with a list of arrays
], ids=["operator", "reflected", "ufunc", "where", "concatenate"])
def test_numpy_arrays_mixed_with_device_arrays_are_caught(strict, mix):
    with pytest.raises(CupyMismatchError, match="a NumPy array mixed with device arrays"):
        mix(strict, np.ones(3))


INPLACE = ["iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "iand", "ior",
           "ixor"]


@pytest.mark.parametrize("name", INPLACE)
def test_numpy_arrays_in_in_place_operators_are_caught(strict, name):
    """x += host (and every other in-place operator) refuses a NumPy operand, and leaves x
    as it was."""
    dtype = bool if name in ("iand", "ior", "ixor") else float
    x = strict.ones(3, dtype=dtype)
    with pytest.raises(CupyMismatchError, match=f"operator {name}"):
        getattr(operator, name)(x, np.ones(3, dtype=dtype))
    assert backend.to_numpy(x).tolist() == [True] * 3
    assert getattr(operator, name)(x, strict.ones(3, dtype=dtype)) is x     # device: fine


@pytest.mark.parametrize("call", [
    lambda a, host: np.dot(a, host),
    lambda a, host: np.matmul(host, a),
    lambda a, host: np.einsum("i,i->", a, host),
    lambda a, host: np.where(a > 0, host, 0.0),
    lambda a, host: np.add(a, host),
    lambda a, host: np.exp(a, out=host),
    lambda a, host: np.add(a, a, out=(host,)),
], ids=["dot", "matmul", "einsum", "where", "ufunc", "ufunc out", "ufunc out tuple"])
def test_numpy_functions_given_a_host_array_are_caught(strict, call):
    """Through NumPy's own functions and ufuncs too (np.*, not xp.*), as CuPy's arrays
    refuse them there."""
    with pytest.raises(CupyMismatchError, match="a NumPy array mixed with device arrays"):
        call(strict.ones(3), np.ones(3))


@pytest.mark.parametrize("ufunc", [lambda xp: xp.add, lambda xp: np.add],
                         ids=["xp.add", "np.add"])
def test_ufunc_keywords_cupy_lacks_are_caught(strict, ufunc):
    a, keep = strict.ones(3), strict.ones(3, dtype=bool)
    for keywords in ({"where": keep, "out": strict.zeros(3)}, {"order": "C"}, {"subok": True}):
        with pytest.raises(CupyMismatchError, match="with keywords"):
            ufunc(strict)(a, a, **keywords)
    out = strict.zeros(3)
    ufunc(strict)(a, a, out=out, dtype=out.dtype, casting="same_kind")   # CuPy's keywords
    assert backend.to_numpy(out).tolist() == [2.0] * 3


def test_a_numpy_mask_in_a_layer_is_caught(strict):
    with pytest.raises(CupyMismatchError, match="backend.asarray"):
        HostMaskInForward()(strict.ones(3))


def test_assigning_a_numpy_array_into_a_device_array_is_caught(strict):
    x = strict.zeros(4)
    with pytest.raises(CupyMismatchError, match=r"a\[index\] = value"):
        x[1:3] = np.ones(2)
    x[1:3] = strict.ones(2)                    # device values, and scalars, are fine
    x[0] = 2.0


def test_operator_index_of_a_device_array_is_caught(strict):
    n = strict.asarray(2)
    with pytest.raises(CupyMismatchError, match=r"operator.index\(\)"):
        operator.index(n)
    with pytest.raises(CupyMismatchError):
        list(range(5))[n]
    assert strict.arange(5)[n].item() == 2     # indexing a device array with one is fine


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy, pickle.dumps])
def test_copying_a_device_generator_is_caught(strict, how):
    with pytest.raises(CupyMismatchError, match="copying or pickling a device generator"):
        how(strict.random.default_rng(0))


def test_generator_methods_cupy_lacks_are_caught(strict):
    rng = strict.random.default_rng(0)
    for name in ("normal", "permutation", "choice", "shuffle"):
        with pytest.raises(AttributeError, match=f"cupy.random.Generator has no '{name}'"):
            getattr(rng, name)
    assert rng.standard_normal(3).shape == (3,)


def test_ufunc_at_on_a_dtype_cupy_refuses_is_caught(strict):
    with pytest.raises(CupyMismatchError, match="xp.add.at on a int64 array"):
        strict.add.at(strict.zeros(3, dtype=strict.int64), strict.asarray([1, 1]), 1)
    with pytest.raises(CupyMismatchError, match="xp.multiply.at"):
        strict.multiply.at(strict.ones(3), strict.asarray([1]), 2.0)
    out = strict.zeros(3, dtype=strict.int32)
    strict.add.at(out, strict.asarray([1, 1]), 1)
    assert backend.to_numpy(out).tolist() == [0, 2, 0]


def test_ufunc_at_into_a_numpy_array_is_caught(strict):
    host = np.zeros(3, dtype=np.float32)        # CuPy's add.at raises AttributeError on it
    with pytest.raises(CupyMismatchError, match="xp.add.at on a NumPy array"):
        strict.add.at(host, strict.asarray([1, 1]), 1.0)
    assert host.tolist() == [0, 0, 0]


@pytest.mark.parametrize("mix", [
    lambda x: x + [1.0, 2.0, 3.0],                          # an operator
    lambda x: [1.0, 2.0, 3.0] * x,                          # reflected: the list on the left
    lambda x: x.__iadd__((1.0, 2.0, 3.0)),                  # in place, a tuple
    lambda x: x < [1.0, 2.0, 3.0],                          # a comparison
    lambda x: backend.xp.maximum(x, [1.0, 2.0, 3.0]),       # a ufunc
], ids=["operator", "reflected", "in place", "comparison", "ufunc"])
def test_a_python_list_as_an_operand_is_caught(strict, mix):
    with pytest.raises(CupyMismatchError, match="a Python list or tuple as an operand"):
        mix(strict.ones(3))
    assert backend.to_numpy(strict.ones(3) + strict.asarray([1.0, 2.0, 3.0])).tolist() == [
        2.0, 3.0, 4.0]                          # made an array first, it is fine


# -- modules carry seeds, not generators ---------------------------------------------------------
def test_a_module_with_dropout_copies_and_restarts_its_stream(strict):
    drop = nn.Dropout(0.5, seed=3)
    x = strict.ones((4, 5))
    first = backend.to_numpy(drop(x))
    twin = drop.copy()                         # CuPy's generator cannot be deep-copied
    assert np.array_equal(backend.to_numpy(twin(x)), first)   # the copy starts from the seed
    drop.reset_rng()
    assert np.array_equal(backend.to_numpy(drop(x)), first)


def test_to_backend_moves_the_random_stream():
    minseq.use_backend("numpy")
    drop = nn.Dropout(0.5, seed=3)
    drop(np.ones((2, 3), dtype=np.float32))    # the generator now exists, on NumPy
    minseq.use_backend("strict")
    try:
        with pytest.raises(CupyMismatchError):
            drop(backend.xp.ones((2, 3)))      # its NumPy mask meets a device array
        drop.to_backend()
        assert isinstance(drop(backend.xp.ones((2, 3))), StrictArray)
    finally:
        minseq.use_backend("numpy")


# -- the sync counter ------------------------------------------------------------------------------
class MaskAssignInForward(nn.Module):
    def forward(self, total):
        total[total == 0] = 1                  # boolean-mask assignment: CuPy reads the mask
        return total


@pytest.mark.parametrize("reads, kind", [
    (lambda xp, x: MaskAssignInForward()(x), "boolean mask"),
    (lambda xp, x: x[x > 0], "boolean mask"),
    (lambda xp, x: xp.unique(x), "unique"),
    (lambda xp, x: x.nonzero(), "nonzero"),
    (lambda xp, x: xp.bincount(x.astype(xp.int64)), "bincount"),
    (lambda xp, x: x.sum().item(), "item"),
    (lambda xp, x: float(x.sum()), "float"),
], ids=["mask assignment", "mask index", "unique", "nonzero", "bincount", "item", "float"])
def test_host_reads_are_counted(strict, reads, kind):
    with count_syncs() as n:
        reads(strict, strict.asarray([0.0, 1.0, 2.0]))
    assert n.reads == [kind]


def test_arithmetic_on_the_device_is_not_counted(strict):
    x = strict.asarray([0.0, 1.0, 2.0])
    with count_syncs() as n:
        strict.maximum(x, 1, out=x)
        strict.where(x > 1, x, 0.0).sum()
    assert n.reads == [] and n.checks == 0


# -- what each refusal says, and the edges of what is refused --------------------------------------
class Double(nn.Module):
    def forward(self, x):
        return x * 2


class FloatAfterAnInnerLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Double()

    def forward(self, x):
        x = self.inner(x)                  # the inner layer's forward has returned ...
        return x / float(x.max())          # ... but this forward has not: still refused


class BoolInForward(nn.Module):
    def forward(self, x):
        return x * bool(x.all())


class ReprInForward(nn.Module):
    def forward(self, x):
        self.note = repr(x)
        return x


@pytest.mark.parametrize("layer, what, advice", [
    (FloatInForward, r"float\(\)", r"use x\.item\(\) where a host number is really needed"),
    (IntInForward, r"int\(\)", r"use x\.item\(\) where a host number is really needed"),
    (BoolInForward, r"truth testing \(if / and / or / bool\(\)\)",
     r"reduce explicitly and call \.item\(\)"),
    (IterateInForward, "iteration", "index it instead"),
    (ReprInForward, "printing", r"print outside the layer, after backend\.to_numpy\(x\)"),
    (FormatInForward, "formatting", r"format x\.item\(\) outside the layer"),
    (TolistInForward, r"tolist\(\)", r"move it with backend\.to_numpy\(x\) outside the layer"),
], ids=["float", "int", "bool", "iteration", "repr", "format", "tolist"])
def test_each_refused_host_read_says_what_to_do_instead(strict, layer, what, advice):
    with pytest.raises(HostConversionError,
                       match=f"{what} inside a forward or backward of a device array .*; {advice}"):
        layer()(strict.arange(1, 4))


def test_a_layer_is_still_on_the_compute_path_after_an_inner_layer_returns(strict):
    """Sections nest: leaving the inner layer's forward does not leave the outer one's."""
    with pytest.raises(HostConversionError, match=r"float\(\) inside a forward or backward"):
        FloatAfterAnInnerLayer()(strict.ones(3))
    assert float(strict.ones(3)[0]) == 1.0       # both have returned: host code again


def test_a_thread_that_never_ran_a_forward_may_convert(strict):
    """A thread of its own (a loader, a worker) starts outside the compute path."""
    results = []

    def host_code():
        results.append((float(strict.asarray(2.5)), int(strict.asarray(3)),
                        bool(strict.asarray(True)), strict.arange(2).tolist()))
    worker = threading.Thread(target=host_code)
    worker.start()
    worker.join()
    assert results == [(2.5, 3, True, [0, 1])]


def test_formatting_an_array_outside_the_compute_path_gives_numpys_text(strict):
    assert f"{strict.asarray([1.0, 2.0])}" == "[1. 2.]" == format(np.asarray([1.0, 2.0]))
    assert f"{strict.asarray([2.5])}" == "[2.5]"
    assert f"{strict.asarray(2.5):.3f}" == "2.500" and f"{strict.asarray(7)}" == "7"


def test_refusals_name_the_numpy_function_and_the_fix(strict, tmp_path):
    x = strict.ones(3)
    with pytest.raises(HostConversionError,
                       match=r"numpy\.save\(\) of a device array .*; save host arrays: "
                             r"backend\.to_numpy first"):
        np.save(tmp_path / "x.npy", x)
    with pytest.raises(CupyMismatchError, match=r"mixed with device arrays in numpy\.dot\(\)"):
        np.dot(x, np.ones(3))
    with pytest.raises(CupyMismatchError, match=r"mixed with device arrays in numpy\.add "):
        np.add(x, np.ones(3))
    with pytest.raises(CupyMismatchError, match=r"numpy\.add\(\) with keywords \['order'\] "
                                                r".*a CuPy ufunc takes only \["):
        np.add(x, x, order="C")
    with pytest.raises(CupyMismatchError, match=r"xp\.add\(\) with keywords \['subok'\] "
                                                r".*a CuPy ufunc takes only \["):
        strict.add(x, x, subok=True)
    with pytest.raises(CupyMismatchError, match=r"operator\.index\(\) of a device array .*; "
                                                r"use x\.item\(\) where a host number"):
        operator.index(strict.asarray(1))


def test_a_boolean_mask_among_other_indices_is_counted(strict):
    x = strict.arange(6).reshape(2, 3)
    with count_syncs() as n:
        x[strict.asarray([True, False]), 0]
        x[0, strict.asarray([True, False, True])] = 9
    assert n.reads == ["boolean mask", "boolean mask"]
    assert x.tolist() == [[9, 1, 9], [3, 4, 5]]


def test_a_ufuncs_attributes_are_numpys_values(strict):
    assert strict.add.nin == 2 and strict.add.identity == 0 and strict.exp.nout == 1
    assert strict.add.reduce(strict.arange(4)).item() == 6        # its methods stay callable


def test_an_xp_function_can_be_copied_and_pickled(strict):
    """A layer that keeps xp.exp as its activation is copied (Module.copy) and pickled."""
    for same in (copy.copy(strict.exp), copy.deepcopy(strict.exp),
                 pickle.loads(pickle.dumps(strict.exp))):
        assert same(strict.zeros(1)).tolist() == [1.0]


def test_generator_methods_given_a_host_array_are_caught_by_name(strict):
    rng = strict.random.default_rng(0)
    with pytest.raises(CupyMismatchError, match=r"device arrays in Generator\.integers\(\)"):
        rng.integers(np.zeros(3), 5)


def test_copying_a_device_generator_says_to_keep_the_seed(strict):
    with pytest.raises(CupyMismatchError, match=r"device generator \(CuPy refuses it\); keep "
                                                r"the seed and make a new generator"):
        copy.copy(strict.random.default_rng(0))


def test_ufunc_at_refusals_say_what_cupy_takes(strict):
    with pytest.raises(CupyMismatchError, match=r"on a int64 array \(CuPy refuses it\); "
                                                r"CuPy's takes \['float16', 'float32', 'float64', "
                                                r"'int32', 'uint32', 'uint64'\]"):
        strict.add.at(strict.zeros(3, dtype=strict.int64), strict.asarray([1]), 1)
    with pytest.raises(CupyMismatchError, match=r"xp\.multiply\.at on a float64 array .*; "
                                                r"CuPy's takes no dtype: it has no such \.at"):
        strict.multiply.at(strict.ones(3), strict.asarray([1]), 2.0)
    with pytest.raises(CupyMismatchError, match=r"xp\.add\.at on a NumPy array .*; scatter "
                                                r"into a device array \(backend\.asarray\)"):
        strict.add.at(np.zeros(3), strict.asarray([1]), 1.0)


def test_after_its_forward_returns_a_thread_may_convert_again(strict):
    """Leaving the compute path restores host code on that thread, from its very first forward."""
    results = []

    def forward_then_host_code():
        Double()(strict.ones(2))
        results.append(float(strict.asarray(1.5)))
    worker = threading.Thread(target=forward_then_host_code)
    worker.start()
    worker.join()
    assert results == [1.5]


def test_a_list_operand_is_refused_with_the_fix(strict):
    with pytest.raises(CupyMismatchError, match=r"operand of the operator add \(CuPy refuses "
                                                r"it\); make it an array first with xp\.asarray"):
        strict.ones(3) + [1.0, 2.0, 3.0]


def test_functions_that_give_several_arrays_give_device_arrays(strict):
    values, counts = strict.unique(strict.asarray([3, 1, 3]), return_counts=True)
    assert isinstance(values, StrictArray) and isinstance(counts, StrictArray)
    assert values.tolist() == [1, 3] and counts.tolist() == [1, 2]
    rows, cols = strict.asarray([[0, 1], [1, 0]]).nonzero()
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_an_array_attribute_that_is_an_array_is_a_device_array(strict):
    view = strict.arange(6).reshape(2, 3)
    assert isinstance(view.base, StrictArray) and view.base.tolist() == list(range(6))


@pytest.mark.parametrize("call, name", [
    (lambda xp, host: xp.linalg.norm(host), r"xp\.linalg\.norm\(\)"),
    (lambda xp, host: xp.fft.rfft(host), r"xp\.fft\.rfft\(\)"),
    (lambda xp, host: xp.where(xp.ones(3) > 0, host, 0.0), r"xp\.where\(\)"),
], ids=["linalg", "fft", "where"])
def test_xp_functions_given_a_host_array_are_caught_by_name(strict, call, name):
    """xp.linalg and xp.fft are namespaces of the strict backend too, not NumPy's own."""
    with pytest.raises(CupyMismatchError, match=f"mixed with device arrays in {name}"):
        call(strict, np.ones(3))


def test_the_linalg_and_fft_namespaces_give_device_arrays(strict):
    assert strict.ndarray is StrictArray
    inverse = strict.linalg.inv(strict.asarray([[2.0, 0.0], [0.0, 4.0]]))
    assert isinstance(inverse, StrictArray) and inverse.tolist() == [[0.5, 0.0], [0.0, 0.25]]
    spectrum = strict.fft.rfft(strict.ones(4))
    assert isinstance(spectrum, StrictArray) and spectrum.real.tolist() == [4.0, 0.0, 0.0]


def test_a_list_operand_of_an_xp_ufunc_is_refused_by_name(strict):
    with pytest.raises(CupyMismatchError, match=r"operand of xp\.maximum\(\) \(CuPy refuses"):
        strict.maximum(strict.ones(3), [1.0, 2.0, 3.0])


def test_the_strict_namespace_can_be_copied(strict):
    """An object that keeps the strict namespace as an attribute is copied with it (copy builds
    it bare first)."""
    same = copy.copy(minseq.strict.module)
    assert same.ones(2).tolist() == [1.0, 1.0] and same.linalg.norm(same.ones(4)).item() == 2.0


def _host_advice(what):
    return (f"strict backend: a NumPy array mixed with device arrays in {what} (CuPy refuses "
            "it); move it to the device with backend.asarray first")


@pytest.mark.parametrize("refused, error, message", [
    (lambda xp: operator.index(xp.asarray(1)), CupyMismatchError,
     "strict backend: operator.index() of a device array (as a Python index, a range bound, a "
     "list position) (CuPy refuses it); use x.item() where a host number is really needed"),
    (lambda xp: np.asarray(xp.ones(2)), HostConversionError,
     "strict backend: implicit conversion to a NumPy array (np.asarray, plotting, saving) of a "
     "device array is not allowed (CuPy refuses it or it silently copies to the host); call "
     "backend.to_numpy(x) explicitly"),
    (lambda xp: np.add(xp.ones(2), np.ones(2)), CupyMismatchError, _host_advice("numpy.add")),
    (lambda xp: xp.ones(2).__setitem__(0, np.ones(())), CupyMismatchError,
     _host_advice("an assignment a[index] = value")),
    (lambda xp: xp.add.at(np.zeros(2), xp.asarray([1]), 1.0), CupyMismatchError,
     "strict backend: xp.add.at on a NumPy array (CuPy refuses it); scatter into a device array "
     "(backend.asarray), or use NumPy's own ufunc in host code"),
    (lambda xp: xp.random.default_rng(0).normal, AttributeError,
     "strict backend: cupy.random.Generator has no 'normal' (it has "
     + ", ".join(sorted(GENERATOR_METHODS)) + ")"),
    (lambda xp: copy.deepcopy(xp.random.default_rng(0)), CupyMismatchError,
     "strict backend: copying or pickling a device generator (CuPy refuses it); keep the seed "
     "and make a new generator (minseq.nn.random.RandomStream)"),
], ids=["operator.index", "np.asarray", "numpy-operand", "assignment", "ufunc.at-on-numpy",
        "generator-method", "generator-copy"])
def test_each_refusal_reads_whole_what_was_refused_and_the_fix(strict, refused, error, message):
    with pytest.raises(error) as caught:
        refused(strict)
    assert str(caught.value) == message


def test_a_device_generator_is_not_callable_as_on_numpy(strict):
    with pytest.raises(TypeError, match="Generator' object is not callable"):
        strict.random.default_rng(0)()


def test_ufunc_at_refuses_keywords_as_numpy_does_and_never_ignores_them(strict):
    target = strict.zeros(3)
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        strict.add.at(target, strict.asarray([1]), 1.0, dtype="float64")
    assert target.tolist() == [0.0, 0.0, 0.0]


def test_the_dunders_numpy_and_cupy_answer_are_answered(strict):
    """``xp.exp.__name__`` is "exp" on NumPy and CuPy, so on the strict backend too; a strict
    run refuses only what CuPy refuses."""
    assert strict.exp.__name__ == "exp" and strict.linalg.norm.__name__ == "norm"
    assert minseq.strict.module.__name__ == "numpy"


def test_a_dunder_that_a_device_object_lacks_is_named_in_its_attribute_error(strict):
    """Code that looks for a GPU array (``__cuda_array_interface__``) is told what is missing."""
    for owner in (strict.ones(2), strict.exp, minseq.strict.module):
        with pytest.raises(AttributeError, match="__cuda_array_interface__"):
            owner.__cuda_array_interface__
