"""The targets table, the GEMM / rest split behind it, and the publication's README blocks."""

import importlib.util

import pytest

from minseq.bench import cases, split, targets

from paths import ROOT



def _publish():
    spec = importlib.util.spec_from_file_location("publish", ROOT / "benchmarks" / "publish.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", cases.layer_cases() + cases.layer_cases(quick=True),
                         ids=lambda c: c.name)
def test_the_replayed_products_are_the_cases_forward_and_backward_flops(case):
    """Forward+backward multiplies three times the forward's FLOPs (dW and dx per product)."""
    assert split.flops(split.products(case)) == 3 * case.flops


def test_backward_of_a_stacked_product():
    assert split.backward_of(2, (8, 5, 3), (8, 3, 4)) == [(2, (8, 5, 4), (8, 4, 3)),
                                                          (2, (8, 3, 5), (8, 5, 4))]


def test_gemm_seconds_of_a_quick_case_is_positive():
    assert split.gemm_seconds(cases.recurrent_case("LSTM", 2, 3, 4, 5), repeats=1) > 0


def _row(layer, label, fast, torch, gemm):
    return {"layer": layer, "label": label, "device": "cpu", "mode": "forward+backward",
            "fast": {"median": fast}, "torch": {"median": torch}, "ratio_to_torch": fast / torch,
            "gemm_seconds": gemm}


def _result(rows, threads):
    return {"machine": {"cpu": "Some CPU", "cores": 2, "vector_extensions": ["avx2"],
                        "blas": {"name": "openblas 0.3", "kernel": "Haswell", "threads": threads},
                        "blas_variables": {}}, "rows": rows}


def test_the_targets_table_judges_the_larger_sizes_and_splits_each_miss():
    one = _result([_row("LSTM", "(small)", 0.010, 0.001, 0.005),    # the smallest: not judged
                   _row("LSTM", "(mid)", 0.104, 0.100, 0.060),
                   _row("LSTM", "(large)", 0.120, 0.100, 0.070)], 1)
    two = _result([_row("LSTM", "(small)", 0.010, 0.010, 0.005),
                   _row("LSTM", "(mid)", 0.090, 0.100, 0.050),
                   _row("LSTM", "(large)", 0.095, 0.100, 0.050)], 2)
    text = targets.targets_markdown({1: one, 2: two})
    assert "- 1 thread: Some CPU (avx2), 2 cores; openblas 0.3, kernel Haswell, 1 thread" in text
    assert "- 2 threads: " in text and "kernel Haswell, 2 threads" in text
    row = next(line for line in text.splitlines() if line.startswith("| LSTM |"))
    assert row == ("| LSTM | <= 1.05 | 1.04 (mid); 1.20 (large) | no | "
                   "<= 1.00 | 0.90 (mid); 0.95 (large) | yes |")
    assert ("- LSTM (large), 1 thread: 1.20 > 1.05: 120.0 ms = GEMM 70.0 + rest 50.0 ms "
            "(PyTorch 100.0 ms)") in text
    assert "(small)" not in text and "(mid), 1 thread" not in text
    assert "| GRU | <= 0.95 | not measured |" in text


def test_publish_writes_each_block_between_its_markers():
    publish = _publish()
    text = "a\n<!-- bench:x -->\nold\nlines\n<!-- /bench:x -->\nb\n"
    assert publish.splice(text, {"x": "new"}) == "a\n<!-- bench:x -->\nnew\n<!-- /bench:x -->\nb\n"
    with pytest.raises(ValueError, match="no <!-- bench:y -->"):
        publish.splice(text, {"y": "new"})


def test_the_readme_has_every_block_the_publication_writes():
    publish = _publish()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = ("machine", "results", "targets", "scaling", "gemm")
    assert publish.splice(readme, {n: f"NEW {n}" for n in names}).count("NEW ") == len(names)
