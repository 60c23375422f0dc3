"""No hidden device-to-host syncs, counted under the strict backend (minseq.strict.count_syncs).

On CuPy each host read (a boolean-mask index, unique, nonzero, bincount, .item(), float(),
get()) waits until the GPU has finished everything queued. So:

- a layer or a loss reads nothing in forward + backward; the only reads are the input checks'
  deliberate ones (ids in range, one read for the min and the max), counted apart and stated
  per case in CHECK_READS;
- a training step (Trainer, clipping and Adam included) reads the loss once, for the progress
  line and the stop on a non-finite loss, plus, in the first epoch only, its model's input
  checks (STEP_CHECK_READS): later epochs see the same rows again (backend.inputs_checked);
- the next-item models' losses read one thing more, on purpose: where the real positions are
  (``flatnonzero``, ItemRecommender.real_rows), so that their scores, negatives and softmax
  cost the real positions only (STEP_READS).
"""

import numpy as np
import pytest

import minseq
from minseq import backend, nn, optim
from minseq.gradcheck.registry import CASES
from minseq.gradcheck.checker import upstream
from minseq.strict import count_syncs
from minseq.train import Trainer

#: deliberate reads of input checks in one forward + backward, by gradient-check case (others 0):
#: one per array of ids (or edges, or class targets) whose range is checked, one for a mask
#: that must have a real event per row, one for a weighted graph's non-negative weights.
CHECK_READS = {
    "Embedding": 1, "CrossEntropyLoss": 1, "CatalogueSoftmaxLoss": 1,
    "GraphConv dense sym": 1, "GraphConv edges mean": 2, "GraphConv batched edges": 2,
    "MLPCounts": 3, "LSTMClassifier 2 layers": 3, "LSTMClassifier categories binary": 5,
    "LSTMAttentionClassifier": 3, "TransformerClassifier": 5,
    "GRU4Rec": 3, "SASRec": 3,                  # seq ids, candidates, the embedding's lookup
}
#: ... in one training step, by model: those of its forward plus the loss's targets
STEP_CHECK_READS = {
    "SASRec": 3, "GRU4Rec": 3, "GRU4Rec sampled": 4, "MLPCounts": 3, "LSTMClassifier": 4,
    "SASRec ce": 3, "SASRec sampled-ce": 3, "SASRec gbce": 3,   # seq, targets|candidates, lookup
    "LSTMAttentionClassifier": 4, "TransformerClassifier": 4,
}

#: the host reads of one training step beyond the first epoch's checks, by model (others: the
#: loss alone)
STEP_READS = {name: ["flatnonzero", "float"]
              for name in ("SASRec", "SASRec ce", "SASRec sampled-ce", "SASRec gbce",
                           "GRU4Rec", "GRU4Rec sampled")}


@pytest.fixture
def strict():
    minseq.use_backend("strict")
    minseq.manual_seed(0)
    return backend.xp


@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_backward_read_nothing_on_the_host(strict, name):
    module, inputs, kwargs = CASES[name].build()
    module.astype(strict.float64)                        # the cases' inputs are float64
    with count_syncs() as n:
        out = module.forward(*inputs, **kwargs)
        upstream(module, out)
    assert n.reads == [], f"{name}: hidden host reads {n.reads}"
    assert n.checks == CHECK_READS.get(name, 0)


def _ids(xp, high, shape, seed):
    return backend.asarray(np.random.default_rng(seed).integers(1, high + 1, shape))


def _next_item(make):
    def build(xp):
        seq = _ids(xp, 9, (3, 5), 1)
        seq[0, :2] = 0                                   # left padding
        return make(), (seq, _ids(xp, 9, (3, 5), 2) * (seq != 0), seq != 0)
    return build


def _classifier(make, n_classes=5):
    def build(xp):
        mask = xp.ones((3, 5), dtype=bool)
        mask[1, :2] = False
        inputs = _ids(xp, 5, (3, 5), 3) * mask
        targets = backend.asarray(np.array([0, 3, 1]) % n_classes)
        return make(), (inputs, targets, mask)
    return build


def _models():
    from minseq.models.gru4rec import GRU4Rec
    from minseq.models.lstm_attention import LSTMAttentionClassifier
    from minseq.models.lstm_classifier import LSTMClassifier
    from minseq.models.mlp_counts import MLPCounts
    from minseq.models.sasrec import SASRec
    from minseq.models.transformer_classifier import TransformerClassifier
    return {
        "SASRec": _next_item(lambda: SASRec(9, maxlen=5, d_model=8, num_layers=2, num_heads=2)),
        **{f"SASRec {loss}": _next_item(lambda loss=loss: SASRec(
            9, maxlen=5, d_model=8, num_layers=2, num_heads=2, loss=loss, loss_negatives=3))
           for loss in ("ce", "sampled-ce", "gbce")},
        "GRU4Rec": _next_item(lambda: GRU4Rec(9, d_model=8)),
        "GRU4Rec sampled": _next_item(lambda: GRU4Rec(9, d_model=8, n_sampled=3)),
        "MLPCounts": _classifier(lambda: MLPCounts(5, 5, d_model=6, dropout=0.2)),
        "LSTMClassifier": _classifier(lambda: LSTMClassifier(5, 5, d_model=4, embed_dim=3)),
        "LSTMAttentionClassifier": _classifier(
            lambda: LSTMAttentionClassifier(5, 5, d_model=4, embed_dim=3, dropout=0.2)),
        "TransformerClassifier": _classifier(
            lambda: TransformerClassifier(5, 5, d_model=4, num_heads=2, num_layers=2, maxlen=6)),
    }


@pytest.mark.parametrize("name", list(_models()))
@pytest.mark.parametrize("tier", ["reference", "fast"])
def test_a_training_step_reads_the_loss_once(strict, name, tier):
    model, batch = _models()[name](strict)
    if tier == "fast":
        from minseq.fast import accelerate
        model = accelerate(model)
    trainer = Trainer(model, optim.Adam(model), clip_norm=1.0, progress=False)
    trainer.train_epoch([batch])                         # the first step makes Adam's state
    with count_syncs() as n:
        trainer.train_epoch([batch])
    expected = STEP_READS.get(name, ["float"])
    assert n.reads == expected, f"{name}: host reads {n.reads}, expected {expected}"
    assert n.checks == STEP_CHECK_READS.get(name, 0)


def test_clipping_reads_nothing(strict):
    model = nn.Linear(3, 2)
    for g in model.grads.values():
        g[...] = 10.0
    with count_syncs() as n:
        total = optim.clip_grad_norm(model, 1.0)
        optim.l1_penalty(model, 0.1)
    assert n.reads == [] and float(total) > 1.0


@pytest.mark.parametrize("name", ["SASRec", "LSTMClassifier"])
def test_from_the_second_epoch_a_training_step_reads_the_loss_only(strict, name):
    """The Trainer's first epoch checks every row; later epochs skip the checks that read
    device data, so each step reads the loss and nothing else."""
    model, batch = _models()[name](strict)
    trainer = Trainer(model, optim.Adam(model), clip_norm=1.0, progress=False)
    epochs = []
    original = trainer.train_epoch

    def counted(*args, **kwargs):
        with count_syncs() as n:
            result = original(*args, **kwargs)
        epochs.append((n.reads, n.checks))
        return result

    trainer.train_epoch = counted
    trainer.fit([batch, batch], epochs=3)
    reads = 2 * STEP_READS.get(name, ["float"])
    assert epochs[0] == (reads, 2 * STEP_CHECK_READS[name])
    assert epochs[1] == epochs[2] == (reads, 0)


def test_inputs_checked_skips_only_the_data_reads(strict):
    """Inside backend.inputs_checked an id out of range is no longer read (the caller vouches
    for the data), but a wrong dtype is still refused."""
    emb = nn.Embedding(4, 2)
    ids = backend.asarray(np.array([[1, 7]]))
    with pytest.raises(IndexError, match="Embedding"):
        emb(ids)
    with backend.inputs_checked(), count_syncs() as n:
        with pytest.raises(TypeError, match="Embedding"):
            emb(backend.asarray(np.array([[1.0, 2.0]])))
    assert n.checks == 0
    assert backend.checks_read_data()
