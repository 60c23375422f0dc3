"""The backend switch, host/device helpers, and the rule that compute code never imports numpy."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minseq
from minseq import backend

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


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(backend.BackendError, match="unknown backend 'torch'"):
        minseq.use_backend("torch")


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
