"""Every lesson's checks can fail: plant a 1 % error in one gradient of the layer the lesson
teaches (or, for a lesson that teaches no layer, in the result of what it teaches), run the
lesson with that bug, and it must exit non-zero with a failed check that names the tensor.

The bug is planted inside the lesson's own process: a few lines patch the class's method, then
run the lesson script as ``__main__``.
"""

import subprocess
import sys

import pytest

from minseq.lesson_runner import lesson_files

from paths import ROOT

LESSONS = {p.stem: p for p in lesson_files(ROOT / "lessons")}

# lesson -> (class or function, what to scale by 1.01, words of the check that must fail).
# What to scale: a parameter name (that gradient, after backward), an int (that returned
# gradient of an input; 0 for a single one), or "result" (a function's or method's result).
# "@numpy" after the name plants the bug on the numpy backend only (a backend-specific bug).
MUTATIONS = {
    "01_dense_backprop": ("minseq.nn.CrossEntropyLoss.backward", 0, "dpred"),
    "02_rnn": ("minseq.nn.RNN.backward", "Wx", "RNN: dWx"),
    "03_lstm": ("minseq.nn.LSTM.backward", "Wx", "LSTM: dWx"),
    "04_gru": ("minseq.nn.GRU.backward", "Wx", "GRU: dWx"),
    "05_attention": ("minseq.nn.ScaledDotProductAttention.backward", 2, "dv"),
    "06_multihead_positional": ("minseq.nn.MultiHeadAttention.backward", "Wo", "dWo"),
    "07_transformer": ("minseq.nn.LayerNorm.backward", "gamma", "dgamma"),
    "08_data": ("minseq.data.MinMaxScaler.transform", "result", "MinMaxScaler"),
    "09_metrics": ("minseq.nn.BCEWithLogitsLoss.backward", 0, "BCEWithLogitsLoss: dpred"),
    "10_timeseries": ("minseq.timeseries.arma_filter", "result", "arma_filter"),
    "11_graph": ("minseq.nn.GraphConv.backward", "W", "dW"),
    "12_next_behaviour": ("minseq.nn.LSTM.backward", "Wx", "H1: dlstms.0.Wx"),
    "13_next_item": ("minseq.nn.Embedding.backward", "W", "item_emb.W"),
    "14_cpu_vs_gpu": ("minseq.nn.MultiHeadAttention.backward@numpy", "Wq", "gradients of Wq"),
    "15_fast_lstm": ("minseq.nn.LSTM.backward", "Wx", "dWx"),
    "16_churn": ("minseq.metrics.roc_auc", "result", "the area under the LSTM's ROC curve"),
    "17_data_parallel": ("minseq.nn.Linear.backward", "W", "full batch dW equals central"),
}

PLANT = """
import importlib, runpy, sys
from minseq import backend
target, what, only_on, path, out = sys.argv[1:6]
owner_name, attr = target.rsplit(".", 1)
try:
    owner = importlib.import_module(owner_name)
except ImportError:
    module_name, cls = owner_name.rsplit(".", 1)
    owner = getattr(importlib.import_module(module_name), cls)
original = getattr(owner, attr)

def planted(*args, **kwargs):
    returned = original(*args, **kwargs)
    if only_on and backend.get_backend() != only_on:
        return returned
    if what == "result":
        return returned * 1.01
    if what.isdigit():
        if isinstance(returned, tuple):
            i = int(what)
            return returned[:i] + (returned[i] * 1.01,) + returned[i + 1:]
        return returned * 1.01
    args[0].grads[what][...] *= 1.01
    return returned

setattr(owner, attr, planted)
sys.path.insert(0, str(__import__("pathlib").Path(path).parent))
sys.argv = [path, "--fast", "--out", out]
runpy.run_path(path, run_name="__main__")
"""


def test_every_lesson_has_a_mutation():
    assert sorted(MUTATIONS) == sorted(LESSONS)


@pytest.mark.parametrize("stem", sorted(MUTATIONS))
def test_a_one_percent_gradient_error_fails_the_lesson(stem, tmp_path):
    target, what, words = MUTATIONS[stem]
    target, _, only_on = target.partition("@")
    proc = subprocess.run([sys.executable, "-c", PLANT, target, str(what), only_on,
                           str(LESSONS[stem]), str(tmp_path)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode != 0, f"{stem} passed with {target} off by 1 %"
    failed = [line for line in proc.stdout.splitlines() if "[FAIL]" in line]
    assert any(words in line for line in failed), proc.stdout[-3000:] + proc.stderr[-3000:]
