"""The benchmark harness: timers, agreement checks, quick end-to-end runs, reports.

No assertion here is about speed: timings on a shared machine are not a specification.
"""

import builtins
import os
import subprocess
import sys
import json

import numpy as np
import pytest

from minseq import backend, nn
from minseq.bench import Timing, compare, time_call
from minseq.bench import cases, harness, machine, models, report, targets
from minseq.cli import main
from minseq.models import registry

from paths import ROOT


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = backend.get_backend()
    backend.use_backend("numpy")
    yield
    backend.use_backend(previous)


@pytest.fixture
def no_torch(monkeypatch):
    """Simulate a machine without PyTorch: ``import torch`` fails."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (simulated)")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_time_call_counts_calls_and_orders_its_statistics():
    calls = []
    t = time_call(lambda: calls.append(1), repeats=4, warmup=2, number=3)
    assert isinstance(t, Timing)
    assert len(calls) == 2 + 4 * 3          # warm-up calls, then repeats x number
    assert len(t.samples) == 4 and t.number == 3
    assert t.min <= t.median <= t.max


def test_compare_interleaves_the_functions():
    order = []
    result = compare({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                     repeats=3, warmup=1, gap=0.0, number=1)
    assert order == ["a", "b"] * 4          # one warm-up round, then three timed rounds
    assert set(result) == {"a", "b"}


def test_compare_synchronises_each_sample():
    synced = []
    compare({"a": lambda: None}, repeats=2, warmup=1, gap=0.0, number=1,
            sync=lambda: synced.append(1))
    assert len(synced) == 2 * 3             # before and after each of 3 samples


def test_calls_per_sample_stretches_short_functions():
    from minseq.bench.timing import calls_per_sample
    assert calls_per_sample(0.1) == 1
    assert calls_per_sample(0.001) == 20
    assert calls_per_sample(0.0) == 50


def test_every_issue_size_is_a_case():
    sizes = {(c.layer, c.size) for c in cases.layer_cases()}
    for kind in ("RNN", "LSTM", "GRU"):
        for s in [(32, 50, 64, 128), (64, 100, 128, 256), (128, 200, 64, 64)]:
            assert (kind, s) in sizes
    for kind in ("MultiHeadAttention", "TransformerEncoderLayer"):
        for s in [(32, 50, 64, 2), (64, 200, 128, 4), (16, 512, 256, 8)]:
            assert (kind, s) in sizes
    assert ("MLP", (1024, 512, 1024, 10)) in sizes


def test_matrix_product_flops_by_hand():
    lstm = cases.recurrent_case("LSTM", 2, 3, 4, 5)
    assert lstm.flops == 2 * 3 * 2 * (4 * 20 + 5 * 20)     # T B (x Wx + h Wh), G = 4H
    mlp = cases.mlp_case(8, 6, 12, 3)
    assert mlp.flops == 2 * 8 * 6 * 12 + 2 * 8 * 12 * 3


@pytest.mark.parametrize("case", cases.layer_cases(quick=True), ids=lambda c: c.layer)
def test_minseq_and_pytorch_sides_agree(case, torch):
    module = cases.build_module(case)
    ours, theirs = cases.minseq_side(case, module), cases.torch_side(case, torch, module)
    assert cases.agreement(ours.step(), theirs.step(), name=case.name) < 1e-4


def test_the_agreement_check_catches_a_wrong_implementation(torch):
    case = cases.recurrent_case("LSTM", 3, 4, 2, 5)
    module = cases.build_module(case)
    theirs = cases.torch_side(case, torch, module)
    module.params["Wh"][0, 0] += 0.5        # a deliberately wrong LSTM
    ours = cases.minseq_side(case, module)
    with pytest.raises(cases.AgreementError, match="LSTM .* differs from PyTorch"):
        cases.agreement(ours.step(), theirs.step(), name=case.name)


def test_agreement_refuses_nan_and_shape_mismatch():
    a = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(cases.AgreementError, match="differs"):
        cases.agreement((a * np.nan, a), (a, a))
    with pytest.raises(cases.AgreementError, match="shapes differ"):
        cases.agreement((a, a), (a.T, a))
    assert cases.agreement((a, a), (a, a)) == 0.0


def test_float32_lies_within_its_rounding_of_float64_on_both_tiers():
    """The fast tier (blocked softmax and LayerNorm) sums no worse than the reference: both
    float32 tiers within a few float32 ulps of the float64 reference on the same inputs."""
    from minseq.fast import accelerate
    case = cases.encoder_case(2, 6, 8, 2)
    module = cases.build_module(case)
    truth = cases.minseq_side(case, module.copy().astype(np.float64), np.float64).step()
    for tier in (module, accelerate(module.copy())):
        for got, want in zip(cases.minseq_side(case, tier).step(), truth):
            assert got.dtype == np.float32 and want.dtype == np.float64
            assert np.abs(got - want).max() / np.abs(want).max() < 1e-5


def test_the_precision_script_reports_every_side(torch):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "precision.py"),
                           "--size", "2,6,8,2"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                              [str(ROOT), *sys.path])))
    assert done.returncode == 0, done.stderr
    rows = {line[:22].strip(): [float(v) for v in line[22:].split()]
            for line in done.stdout.splitlines()[2:]}
    assert set(rows) == {"reference float32", "fast float32", "PyTorch float32",
                         "PyTorch float64"}
    assert all(e < 1e-5 for name, errs in rows.items() if "32" in name for e in errs)
    assert all(e < 1e-12 for e in rows["PyTorch float64"])


def _check_result(result, torch_present):
    assert result["machine"]["cores"] >= 1 and result["gemm_gflops"]["numpy"] > 0
    layers = {r["layer"] for r in result["rows"]}
    assert {"MLP", "RNN", "LSTM", "GRU", "MultiHeadAttention",
            "TransformerEncoderLayer"} <= layers
    for r in result["rows"]:
        if r["device"] != "cpu" or "training step" in r["layer"]:
            continue
        assert r["fast"]["min"] <= r["fast"]["median"] <= r["fast"]["max"]
        if r["layer"] == "MLP":                 # Linear and ReLU have no fast twin
            assert r["reference"] is None and r["reference_note"] == harness.NO_TWIN
        else:                                   # the reference tier is timed beside the fast one
            assert r["reference"]["median"] > 0 and r["reference_to_fast"] > 0
        if torch_present:
            assert r["torch"] and r["ratio_to_torch"] > 0 and r["agreement_error"] < 1e-3
        else:
            assert r["torch"] is None and r["torch_note"] == "not installed"
    json.loads(json.dumps(result))          # plain JSON all through


def test_quick_run_end_to_end_with_pytorch(torch, tmp_path):
    result = harness.run_benchmark(quick=True, gpu=False, log=lambda *a: None)
    _check_result(result, torch_present=True)
    paths = report.write_report(result, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["rows"] == result["rows"]
    table = (tmp_path / "results.md").read_text()
    assert "| LSTM | (4, 5, 3, 6) | forward+backward |" in table
    assert "No GPU rows" in table
    assert (tmp_path / "time_vs_size.png").stat().st_size > 0 and len(paths) == 3


def test_quick_run_without_pytorch(no_torch, tmp_path):
    assert machine.optional_torch() is None
    result = harness.run_benchmark(quick=True, gpu=False, only=["LSTM", "MLP"],
                                   log=lambda *a: None)
    assert {r["layer"] for r in result["rows"]} == {"LSTM", "MLP"}
    assert all(r["torch_note"] == "not installed" for r in result["rows"])
    assert result["machine"]["torch"] is None
    report.write_report(result, tmp_path)
    table = (tmp_path / "results.md").read_text()
    assert "| not installed |" in table and "PyTorch not installed" in table


def test_benchmarked_models_come_from_the_registry():
    """Each row label names a registry model; a quick training step of each builds and runs."""
    assert set(models.MODELS.values()) <= set(registry.MODELS)
    for label in models.MODELS:
        assert models.model_step_side(label, models.QUICK_SIZES[0]).step() > 0


def test_a_model_following_the_trainer_protocol_is_timed(monkeypatch):
    """A stand-in model with the ``loss(batch)`` / ``backward_loss()`` protocol gets a row."""
    class Tiny(nn.Module):
        def __init__(self, n_items, d_model):
            super().__init__()
            self.emb = nn.Embedding(n_items + 1, d_model)

        def loss(self, batch):
            inputs, _, _ = batch
            self.out = self.emb(inputs)
            return (self.out ** 2).mean()

        def backward_loss(self):
            self.emb.backward(2 * self.out / self.out.size)

    spec = registry.ModelSpec(Tiny, registry.NEXT_ITEM, {"maxlen": 5, "d_model": 4}, ("d_model",))
    monkeypatch.setitem(models.REGISTRY, "tiny", spec)
    monkeypatch.setattr(models, "MODELS", {"Tiny": "tiny"})
    rows = harness.bench_models(True, {"repeats": 2, "warmup": 1, "gap": 0.0}, [],
                                log=lambda *a: None)
    assert [r["layer"] for r in rows] == ["Tiny training step"]
    assert rows[0]["fast"]["median"] > 0 and rows[0]["reference"]["median"] > 0
    assert rows[0]["torch_note"] == "no PyTorch counterpart" and rows[0]["peak_memory_mb"] >= 0


def test_peak_memory_sees_a_large_array():
    assert models.peak_memory_mb(lambda: np.ones(2**20)) >= 7.9     # 8 MiB of float64


def test_command_line_quick_run(tmp_path, capsys):
    assert main(["bench", "--quick", "--no-gpu", "--only", "RNN", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| RNN | (4, 5, 3, 6) |" in out and "wrote" in out
    assert (tmp_path / "results.json").exists()
    kernel = machine.blas_info()["kernel"]
    if kernel:                                 # OpenBLAS: the kernel it runs is named
        assert f"kernel {kernel}" in out


def test_results_go_to_out_bench_unless_told(tmp_path):
    """Only an explicit --out benchmarks/results (make bench-publish) touches the committed
    results."""
    import argparse
    from minseq.commands import bench
    p = argparse.ArgumentParser()
    bench.add_arguments(p)
    assert p.parse_args([]).out == "out/bench"


def test_gpu_rows_table_and_speedup_figure(tmp_path):
    """The GPU path on this machine's backend (numpy stands in for CuPy): rows marked "gpu",
    PyTorch without CUDA noted, then the GPU table and the speed-up figure."""
    torch = machine.optional_torch()
    settings = {"repeats": 2, "warmup": 1, "gap": 0.0}
    case = cases.recurrent_case("GRU", 2, 3, 4, 5)
    cpu = harness.bench_case(case, torch, "cpu", settings, log=lambda *a: None)
    gpu = harness.bench_case(case, torch, "gpu", settings, log=lambda *a: None)
    assert {r["device"] for r in gpu} == {"gpu"} and gpu[0]["peak_memory_mb"] is None
    if torch is not None and not torch.cuda.is_available():
        assert gpu[0]["torch_note"] == "no CUDA device for PyTorch"
    result = {"machine": machine.machine_info(), "gemm_gflops": {"numpy": 100.0, "cupy": 1e4},
              "settings": {"repeats": 2, "warmup": 1, "gap": 0.0}, "rows": cpu + gpu,
              "notes": []}
    text = report.markdown_report(result)
    assert "minseq fast CuPy ms" in text and "minseq reference CuPy ms" in text
    assert "No GPU rows" not in text
    assert report.speedup_figure(result, tmp_path / "speedup.png").stat().st_size > 0


def test_a_disagreement_is_reported_in_its_rows_and_the_case_still_timed(monkeypatch):
    def disagree(ours, theirs, tol=1e-3, name="case"):
        raise cases.AgreementError(f"{name}: output differs from PyTorch's by 1.00e+00")
    monkeypatch.setattr(harness, "agreement", disagree)
    case = cases.recurrent_case("GRU", 2, 3, 4, 5)
    rows = harness.bench_case(case, None, "cpu", {"repeats": 1, "warmup": 0, "gap": 0.0},
                              log=lambda *a: None)
    assert [r["mode"] for r in rows] == list(harness.MODES)
    assert all("differs from PyTorch's" in r["agreement_failure"] and r["fast"] for r in rows)


def test_pytorch_cuda_runs_without_tf32():
    """TF32 rounds float32 products to 10-bit mantissas: PyTorch's side would fail the 1e-3
    agreement check for reasons that are not minseq's."""
    from types import SimpleNamespace as NS
    torch = NS(backends=NS(cuda=NS(matmul=NS(allow_tf32=True)), cudnn=NS(allow_tf32=True)))
    harness.no_tf32(torch)
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32


def test_the_wikipedia_benchmark_defaults_are_the_readme_tables(tmp_path):
    """Its default epochs are those of the README's table, and a missing data file is one
    line (exit 2) in a fresh clone, where ../shared/data is not there."""
    import runpy
    script = runpy.run_path(str(ROOT / "benchmarks" / "wikipedia_next_item.py"))
    defaults = vars(script["parser"]().parse_args([]))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for model in ("sasrec", "gru4rec"):
        rows = [line for line in readme.splitlines()
                if line.startswith(f"| {model} |") and "batch_size=" in line]   # the settings
        assert len(rows) == 1 and f"epochs={defaults[f'epochs_{model}']}," in rows[0]
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "wikipedia_next_item.py"),
                           "--data", str(tmp_path / "wikipedia.txt")], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no data file at" in done.stderr


@pytest.mark.mpi
def test_the_data_parallel_benchmark_runs_end_to_end(mpiexec, tmp_path):
    """A quick run of one model (SASRec: one step an epoch; one epoch, every set-up: minseq on
    1 and 2 threads and on 2 processes, PyTorch on 1 and 2 threads) writes the table with both
    targets' ratios, the all-reduce table, the JSON and the figure; the results go to
    out/bench/ unless told."""
    pytest.importorskip("torch", reason="PyTorch not installed (the parity extra)")
    import runpy
    script = str(ROOT / "benchmarks" / "data_parallel.py")
    assert runpy.run_path(script)["parser"]().parse_args([]).out == "out/bench/data_parallel"
    # seconds on an idle machine, longer on a loaded one, where two-thread runs crawl; the
    # timeouts are for a hang
    done = subprocess.run([sys.executable, script, "--quick", "--models", "sasrec", "--epochs",
                           "1", "--timeout", "600", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "data_parallel.json").read_text())
    (row,) = result["rows"]
    assert row["model"] == "sasrec" and len(row["rates"]) == 5
    assert all(rate > 0 for rate in row["rates"].values())
    assert result["torch_threads"] == [1, 2] and row["gradient_bytes"] > 0
    table = (tmp_path / "data_parallel.md").read_text()
    line = next(line for line in table.splitlines() if line.startswith("| sasrec | "))
    assert line.count("|") == 1 + 1 + 5 + 2 and line.count("met") == 2
    assert "kernel" in table and "PyTorch" in table and "--quick smoke run" in table
    assert (tmp_path / "data_parallel.png").stat().st_size > 0


def test_the_scaling_script_runs_each_thread_count_in_its_own_process(tmp_path):
    """A quick run at 1 and 2 threads writes one result per count, the table (a row per case,
    three columns per count) and the figure; a count below 1 is one line, exit 2."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    script = str(ROOT / "benchmarks" / "scaling.py")
    done = subprocess.run([sys.executable, script, "--quick", "--threads", "1", "2", "--out",
                           str(tmp_path)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for n in (1, 2):
        result = json.loads((tmp_path / f"threads-{n}" / "results.json").read_text())
        assert result["machine"]["thread_variables"]["OPENBLAS_NUM_THREADS"] == str(n)
    table = (tmp_path / "scaling.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "layer" not in line]
    assert {row.split(" | ")[0][2:] for row in rows} == set(targets.TARGETS)
    assert all(row.count("|") == 3 + 6 for row in rows)
    assert (tmp_path / "scaling.png").stat().st_size > 0
    bad = subprocess.run([sys.executable, script, "--threads", "0"], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and "counts must be >= 1" in bad.stderr


def test_the_quality_benchmark_runs_each_loss_within_its_time_budget(tmp_path):
    """On a tiny `user item` file with no time to spare (--minutes 0: the first epoch only),
    each loss gives a row of both protocols, a curve of one point and the figure; --jobs 2
    trains two at a time and --append adds rows to the table already there."""
    root = ROOT
    rng = np.random.default_rng(0)
    lines = [f"{u} {i}" for u in range(1, 41) for i in rng.integers(1, 16, 5)]
    (tmp_path / "log.txt").write_text("\n".join(lines) + "\n")
    command = [sys.executable, str(root / "benchmarks" / "next_item_quality.py"),
               "--data", str(tmp_path / "log.txt"), "--minutes", "0", "--loss-negatives", "3",
               "--losses", "ce", "gbce", "--results", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=str(root), MPLBACKEND="Agg")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    saved = json.loads((tmp_path / "next_item_quality.json").read_text())
    assert [r["loss"] for r in saved["results"]] == ["ce", "gbce"]
    for r in saved["results"]:
        assert r["epochs"] == len(r["curve"]) == 1 and r["users_evaluated"] == 40
        assert set(r["test"]) == {"sampled", "full"} and r["peak_rss_mb"] > 0
    table = (tmp_path / "next_item_quality.md").read_text()
    assert "| sasrec | gbce, K=3 |" in table and "| sasrec | ce |" in table
    assert (tmp_path / "next_item_quality.png").stat().st_size > 0
    # the BLAS each model's process ran: its kernel, its 1 thread and the kernel variables set
    blas = {r["blas"] for r in saved["results"]}
    assert len(blas) == 1 and f"BLAS: {blas.pop()}." in table
    kernel = machine.blas_info()["kernel"]
    assert kernel is None or f"kernel {kernel}, 1 thread; BLAS variables: " in table
    # a row kept from a run that did not record its BLAS says so, beside this run's
    del saved["results"][0]["blas"]
    (tmp_path / "next_item_quality.json").write_text(json.dumps(saved))
    # two models at a time, appended: gbce's row replaced, ce's kept, GRU4Rec's added
    again = subprocess.run([*command[:-5], "--losses", "gbce", "--gru4rec", "ce", "--jobs", "2",
                            "--append", "--results", str(tmp_path)],
                           capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    saved = json.loads((tmp_path / "next_item_quality.json").read_text())
    assert [(r["model"], r["loss"], r["jobs"]) for r in saved["results"]] == [
        ("sasrec", "ce", 1), ("sasrec", "gbce", 2), ("gru4rec", "ce", 2)]
    rows = [line for line in (tmp_path / "next_item_quality.md").read_text().splitlines()
            if line.startswith("| sasrec") or line.startswith("| gru4rec")]
    assert len(rows) == 3 and all(" | 0 | " in row for row in rows)     # budget 0 minutes
    assert "| 2 x 1 |" in rows[1] and "| 1 x 1 |" in rows[0]
    assert rows[2].startswith("| gru4rec | ce |")
    saved = json.loads((tmp_path / "next_item_quality.json").read_text())
    assert ("BLAS: not recorded (sasrec ce); " + saved["results"][1]["blas"] +
            " (sasrec gbce, gru4rec ce).") in (tmp_path / "next_item_quality.md").read_text()
    nothing = subprocess.run([*command[:-5], "--losses", "--results", str(tmp_path)],
                             capture_output=True, text=True, env=env)
    assert nothing.returncode == 2 and "nothing to train" in nothing.stderr
