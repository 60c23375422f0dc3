"""Which BLAS kernel a timing ran on: the record, the one-line warning when a variable forces an
older kernel than the CPU's, and the re-run without the variables.

No test here changes OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE: the variables and the native
kernel's figures are handed in, or mocked, so each test is deterministic and fast.
"""

import json

import pytest

from minseq.bench import harness, kernel, machine
from minseq.cli import main

FORCED = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}


def test_vector_extensions_come_from_the_cpuinfo_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\n"
                       "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw\n")
    assert kernel.vector_extensions(cpuinfo) == ["avx", "avx2", "avx512f"]
    cpuinfo.write_text("flags\t\t: fpu sse2 avx\n")
    assert kernel.vector_extensions(cpuinfo) == ["avx"]
    assert kernel.vector_extensions(tmp_path / "absent") is None


def test_the_blas_variables_and_an_environment_without_them():
    environ = dict(FORCED, PATH="/bin", OPENBLAS_NUM_THREADS="1")
    assert kernel.blas_variables(environ) == FORCED
    assert kernel.native_environment(environ) == {"PATH": "/bin", "OPENBLAS_NUM_THREADS": "1"}
    assert kernel.blas_variables({"PATH": "/bin"}) == {}
    assert kernel.unset_prefix(FORCED) == "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"


def test_machine_info_records_kernel_extensions_and_variables():
    info = machine.machine_info()
    assert {"kernel", "threads", "name"} <= set(info["blas"])
    assert info["blas_variables"] == kernel.blas_variables()
    assert info["vector_extensions"] == kernel.vector_extensions()


def test_the_note_says_what_is_forced_how_much_faster_native_is_and_the_way_out():
    note = kernel.forced_kernel_note(FORCED, "Haswell", ["avx", "avx2", "avx512f"], 100.0,
                                     {"kernel": "SkylakeX", "gflops": 170.0})
    assert "\n" not in note
    assert "OPENBLAS_CORETYPE=Haswell" in note and "Haswell kernel" in note
    assert "(avx, avx2, avx512f) own is SkylakeX" in note and "1.70x" in note
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in note


@pytest.mark.parametrize("variables, native", [
    ({}, {"kernel": "SkylakeX", "gflops": 170.0}),             # nothing set
    (FORCED, {"kernel": "Haswell", "gflops": 101.0}),          # the CPU's own kernel anyway
    (FORCED, None)])                                           # no native figures
def test_no_note_when_nothing_is_forced(variables, native):
    assert kernel.forced_kernel_note(variables, "Haswell", ["avx2"], 100.0, native) is None


def test_minseq_bench_prints_one_line_when_a_variable_forces_an_older_kernel(monkeypatch,
                                                                              tmp_path, capsys):
    """The machine as a forced AVX2 kernel on an AVX-512 CPU, the native probe mocked."""
    real = machine.machine_info

    def forced_machine():
        info = real()
        info["blas"]["kernel"], info["blas_variables"] = "Haswell", dict(FORCED)
        info["vector_extensions"] = ["avx", "avx2", "avx512f"]
        return info
    probes = []
    monkeypatch.setattr(harness, "machine_info", forced_machine)
    monkeypatch.setattr(harness, "gemm_probe", lambda n: {"numpy": 100.0})
    monkeypatch.setattr(harness, "native_probe", lambda n, threads: probes.append((n, threads))
                        or {"kernel": "SkylakeX", "gflops": 250.0})
    assert main(["bench", "--quick", "--no-gpu", "--only", "MLP", "--out", str(tmp_path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512 forces")]
    assert len(lines) == 1
    assert "own is SkylakeX" in lines[0] and "2.50x as fast (250 against 100 GFLOP/s)" in lines[0]
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE" in lines[0]
    assert probes == [(256, probes[0][1])]                 # the quick run's probe size
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["native_kernel"] == {"kernel": "SkylakeX", "gflops": 250.0}
    assert lines[0] in result["notes"]


def test_no_child_probe_without_variables(monkeypatch, tmp_path, capsys):
    real = machine.machine_info
    monkeypatch.setattr(harness, "machine_info", lambda: dict(real(), blas_variables={}))
    monkeypatch.setattr(harness, "native_probe", lambda n, threads: pytest.fail("probed"))
    assert main(["bench", "--quick", "--no-gpu", "--only", "MLP", "--out", str(tmp_path)]) == 0
    assert "forces OpenBLAS" not in capsys.readouterr().out


def test_run_natively_reruns_the_script_without_the_variables(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(kernel, "blas_variables", lambda environ=None: dict(FORCED))
    monkeypatch.setattr(kernel.os, "execve", lambda *a: calls.append(a))
    kernel.run_natively(["script.py", "--quick"], "script.py")
    (executable, argv, env), = calls
    assert argv[1:] == ["script.py", "--quick"] and executable == argv[0]
    assert not set(kernel.BLAS_VARIABLES) & set(env)
    assert "set aside for this process" in capsys.readouterr().err


def test_run_natively_does_nothing_without_the_variables(monkeypatch):
    monkeypatch.setattr(kernel, "blas_variables", lambda environ=None: {})
    monkeypatch.setattr(kernel.os, "execve", lambda *a: pytest.fail("re-ran"))
    kernel.run_natively(["script.py"], "script.py")


def test_timing_setup_names_the_kernel_and_threads(monkeypatch):
    monkeypatch.setattr(kernel, "blas_variables", lambda environ=None: {})
    lines = kernel.timing_setup()
    pool = kernel.blas_pool()
    assert len(lines) == 1 and lines[0].startswith("BLAS: ")
    assert lines[0].endswith("BLAS variables: none")
    if pool and pool.get("architecture"):
        assert f"kernel {pool['architecture']}, {pool['num_threads']} thread" in lines[0]


def test_timing_setup_adds_the_note_when_a_kernel_is_forced(monkeypatch):
    """What lessons 14 and 15 print: the native kernel (mocked) differs from this one."""
    monkeypatch.setattr(kernel, "blas_variables", lambda environ=None: dict(FORCED))
    monkeypatch.setattr(kernel, "native_probe",
                        lambda n, threads: {"kernel": "NotThisOne", "gflops": 1e6})
    lines = kernel.timing_setup(probe_n=32)
    assert "OPENBLAS_CORETYPE=Haswell" in lines[0]
    if (kernel.blas_pool() or {}).get("architecture"):
        assert len(lines) == 2 and "own is NotThisOne" in lines[1]
