"""Next-item recommendation: GRU4Rec, SASRec and the pop / Markov baselines, trained on the
leave-one-out split and evaluated by both protocols of minseq.tasks.evaluation.

Training examples: each user's training history s gives inputs s[:-1] and targets s[1:] (every
position predicts the next item), the last ``maxlen`` kept and padded on the LEFT, so the latest
item sits in the last column, as the evaluation reads it. Validation after every epoch: sampled
HR@10 / NDCG@10 on the validation events; early stopping watches NDCG@10 and the best epoch's
weights are kept, saved to ``OUT/best.npz`` with the config that rebuilds the model (and every
epoch to ``OUT/last.npz``, history.csv and the curves: minseq.tasks.folder).

Recommended settings for MovieLens-1M in ``user item`` format (the SASRec paper's: d = 50,
2 blocks, 1 head, maxlen 200, dropout 0.2, lr 0.001, batch 128, Adam betas (0.9, 0.98)):

    python -m minseq train --model sasrec --format user-item --data ml-1m.txt \\
        --maxlen 200 --d-model 50 --num-layers 2 --num-heads 1 --dropout 0.2 --lr 0.001 \\
        --batch-size 128 --epochs 200 --patience 20

The defaults (minseq.models.registry) are smaller (maxlen 50; at most 50 epochs for SASRec, 30
for GRU4Rec, both with early stopping) so a run on the synthetic log or on short histories
finishes in minutes on a CPU; long histories want the larger maxlen. On wikipedia.txt SASRec
stopped after 48 epochs.
"""

import time

from .. import backend, checkpoint
from ..data import Batches, pad_sequences
from ..fast import tier
from ..models.registry import MODELS
from ..models.sasrec import BETAS
from ..optim import Adam
from .evaluation import Protocol, evaluate as evaluate_protocol, monitored, validation_metrics
from .folder import BEST, fit_epochs
from .provenance import data_of, vocab_arrays
from .report import data_line, say

FULL_SOFTMAX_UP_TO = 20000  # larger catalogues train GRU4Rec on a sampled softmax
N_SAMPLED = 2048


def training_batches(sequences, maxlen, batch_size, seed):
    """Batches of (inputs, targets, mask), (N, maxlen) each, left-padded."""
    pairs = [(s[:-1], s[1:]) for s in sequences if len(s) >= 2]
    inputs, mask = pad_sequences([p[0] for p in pairs], maxlen, padding="pre")
    targets, _ = pad_sequences([p[1] for p in pairs], maxlen, padding="pre")
    return Batches(inputs, targets, mask, batch_size=batch_size, seed=seed)


def for_catalogue(run, table):
    """``run`` as it trains on ``table``: GRU4Rec's full softmax (``n_sampled`` None) turns
    into a sampled one of N_SAMPLED items on a catalogue above FULL_SOFTMAX_UP_TO."""
    if run.model_settings.get("n_sampled", 0) is None and table.n_items > FULL_SOFTMAX_UP_TO:
        return run.replace(model_settings={"n_sampled": N_SAMPLED})
    return run


def optimizer_for(net, s):
    """The optimiser a next-item model trains with: Adam at the learning rate of settings
    ``s``, with SASRec's betas."""
    return Adam(net, lr=s["lr"], betas=BETAS)


def ranking_options(s):
    """The evaluation options among settings ``s`` (the number of negatives aside): the
    cutoffs and whether the full ranking drops seen items."""
    return dict(ks=tuple(s["k"]), exclude_seen=s["exclude_seen"])


def train(table, run):
    """Train ``run.model`` on ``table`` and evaluate it on the test events; see the module
    docstring and ``minseq.tasks.train``. With ``run.resume`` (a checkpoint of this model)
    training continues from its weights and optimiser state, after its epoch. Unless quiet, it
    says first the data, the split, the training sequences and the model's size."""
    spec = MODELS[run.model]
    run = for_catalogue(run, table)
    s, seed = dict(run.model_settings, seed=run.seed), run.seed
    backend.manual_seed(seed)
    options = ranking_options(s)
    protocol = Protocol(table, s["maxlen"], n_negatives=s["negatives"], seed=seed)
    kwargs = spec.kwargs(s, n_items=table.n_items)
    net = spec.cls(**kwargs)
    if not spec.fitted:
        net.astype(run.dtype)
    config = dict(run.to_config(), kwargs=kwargs, maxlen=s["maxlen"], data=data_of(table))
    vocab = vocab_arrays(table)
    path = run.out / BEST
    say([data_line(table),
         f"split     leave one out: {len(protocol.test.users)} users hold out a validation "
         f"and a test event; {sum(map(len, protocol.train_sequences))} events train",
         f"windows   train {sum(len(q) >= 2 for q in protocol.train_sequences)} sequences "
         f"(maxlen {s['maxlen']}); valid "
         f"{len(protocol.valid.users)}, test {len(protocol.test.users)} held-out events",
         f"model     {run.model}: {net.num_parameters():,} parameters"], run.quiet)
    t0 = time.perf_counter()
    history = None
    if spec.fitted:
        net.fit(protocol.train_sequences)
        seconds = time.perf_counter() - t0
        if run.comm.leads:
            checkpoint.save(path, net, config=dict(config, epoch=0), vocab=vocab)
        epochs, per_epoch = 0, seconds
    else:
        batches = training_batches(protocol.train_sequences, s["maxlen"], s["batch_size"], seed)
        optimizer = optimizer_for(net, s)
        net, history = fit_epochs(
            run, net, optimizer, batches, monitor=monitored(options["ks"], s["negatives"]),
            validate=lambda m: validation_metrics(m, protocol.valid, **options, comm=run.comm),
            config=config, vocab=vocab)
        seconds = time.perf_counter() - t0
        epochs = len(history["epoch"])
        per_epoch = sum(history["seconds"]) / max(epochs, 1)
    metrics = evaluate_protocol(net, protocol.test, **options, comm=run.comm)
    return {"metrics": metrics, "train_seconds": seconds, "seconds_per_epoch": per_epoch,
            "epochs": epochs, "model": run.model, "checkpoint": str(path),
            "settings": s, "parameters": net.num_parameters(),
            "sampled_negatives": protocol.n_negatives,
            "users_evaluated": len(protocol.test.targets),
            **({"history": history} if history else {})}


def evaluate(table, path, run, config):
    """Rebuild the model from the checkpoint at ``path`` (its ``config``) alone and evaluate it
    on ``table``'s test events, with the negatives drawn by ``run.seed`` and the evaluation
    options of ``run.model_settings``; the processes of ``run.comm`` share the scoring."""
    if config["kwargs"]["n_items"] != table.n_items:
        raise checkpoint.CheckpointError(
            f"checkpoint {path} was trained on {config['kwargs']['n_items']} items, "
            f"the data has {table.n_items}")
    net = MODELS[run.model].cls(**config["kwargs"])
    if not MODELS[run.model].fitted:
        net.astype(run.dtype)
    checkpoint.load(path, net)
    net = tier(net, run.reference)
    s = run.model_settings
    protocol = Protocol(table, config["maxlen"], n_negatives=s["negatives"], seed=run.seed)
    options = ranking_options(s)
    return {"metrics": evaluate_protocol(net, protocol.test, **options, comm=run.comm),
            "model": run.model,
            "epoch": config.get("epoch"), "sampled_negatives": protocol.n_negatives,
            "users_evaluated": len(protocol.test.targets)}
