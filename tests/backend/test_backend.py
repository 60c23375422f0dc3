"""The backend switch, host/device helpers, and the rule that compute code never imports numpy."""

import ast
import copy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import minseq
from minseq import backend
from minseq.backend import switch
from minseq.launcher import RANK_VARIABLES, SIZE_VARIABLES

PACKAGE = Path(minseq.__file__).parent
# Host-side modules may use numpy; everything else computes through minseq.backend.
HOST_SIDE = {"lesson.py", "lesson_runner.py", "cli.py", "__main__.py", "metrics.py", "plot.py",
             "checkpoint.py", "strict.py", "interop.py", "threads.py"}
HOST_SIDE_DIRS = {"backend", "data", "bench", "timeseries", "tasks"}


def compute_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.name in HOST_SIDE and len(rel.parts) == 1 or rel.parts[0] in HOST_SIDE_DIRS:
            continue
        yield rel


def numpy_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(n == "numpy" or n.startswith("numpy.") for n in names):
            yield node.lineno


@pytest.mark.parametrize("rel", list(compute_modules()), ids=str)
def test_compute_code_never_imports_numpy(rel):
    lines = list(numpy_imports(PACKAGE / rel))
    assert not lines, f"minseq/{rel} imports numpy at line(s) {lines}; use minseq.backend.xp"


def test_the_static_check_finds_a_numpy_import(tmp_path):
    bad = tmp_path / "layer.py"
    bad.write_text("import os\nfrom numpy import tanh\n")
    assert list(numpy_imports(bad)) == [2]


def test_numpy_is_the_default():
    assert backend.get_backend() == "numpy"
    assert backend.xp.tanh is np.tanh


@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
def test_a_copy_of_xp_is_xp_and_follows_the_switch(backend_name):
    """xp stands for a module, so copying it (as copying a model that holds it does) gives the
    same switch, never a snapshot of one backend (it used to recurse without end)."""
    minseq.use_backend(backend_name)
    assert copy.copy(backend.xp) is backend.xp
    assert copy.deepcopy({"xp": backend.xp})["xp"] is backend.xp
    bare = switch._ArrayModule.__new__(switch._ArrayModule)     # as pickle and copy make one
    with pytest.raises(AttributeError, match="_module"):
        bare._module
    minseq.use_backend("numpy" if backend_name == "strict" else "strict")
    assert copy.copy(backend.xp).name == backend.xp.name


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(backend.BackendError, match="unknown backend 'torch'"):
        minseq.use_backend("torch")


class FakeCupy:
    """What the switch asks of CuPy: its device count, and which device it makes current."""

    def __init__(self, count):
        self.made_current = []
        made_current = self.made_current

        class Device:
            def __init__(self, index):
                self.index = index

            def use(self):
                made_current.append(self.index)

        self.cuda = SimpleNamespace(Device=Device,
                                    runtime=SimpleNamespace(getDeviceCount=lambda: count))


@pytest.mark.parametrize("launched, gpus, made_current", [
    ({}, 2, []),                                                # one process: CuPy's default
    ({"PMI_SIZE": "4", "PMI_RANK": "3"}, 2, [1]),               # MPICH's Hydra: 3 % 2
    ({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"}, 4, [1]),     # Open MPI
    ({"PMI_SIZE": "2", "PMI_RANK": "1"}, 1, [0]),
])
def test_each_launched_process_takes_gpu_rank_mod_count_as_cupy_is_chosen(
        monkeypatch, launched, gpus, made_current):
    for name in SIZE_VARIABLES + RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in launched.items():
        monkeypatch.setenv(name, value)
    cupy = FakeCupy(gpus)
    monkeypatch.setattr(switch, "_import_cupy", lambda: cupy)
    minseq.use_backend("cupy")
    assert cupy.made_current == made_current


@pytest.mark.skipif(backend.cupy_available()[0], reason="this machine has a usable CuPy")
def test_cupy_without_gpu_is_one_clear_error():
    with pytest.raises(backend.BackendError, match="backend 'cupy' asked for, but"):
        minseq.use_backend("cupy")
    assert backend.get_backend() == "numpy"


@pytest.mark.skipif(backend.cupy_available()[0], reason="this machine has a usable CuPy")
def test_environment_variable_cupy_without_gpu_is_one_line():
    env = {"MINSEQ_BACKEND": "cupy", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "minseq", "gradcheck"], env=env,
                          capture_output=True, text=True, cwd=PACKAGE.parent)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("minseq: backend 'cupy' asked for, but")


def test_host_device_round_trip(xp):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    dev = backend.asarray(host)
    assert isinstance(dev, xp.ndarray)
    back = backend.to_numpy(dev)
    assert isinstance(back, np.ndarray) and (back == host).all()


def test_seed_gives_the_same_weights(xp):
    minseq.manual_seed(7)
    a = backend.to_numpy(minseq.nn.Linear(3, 4).params["W"])
    minseq.manual_seed(7)
    b = backend.to_numpy(minseq.nn.Linear(3, 4).params["W"])
    assert (a == b).all()
