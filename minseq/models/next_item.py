"""Next-item recommendation for ``minseq train`` / ``minseq evaluate``: GRU4Rec, SASRec and the
pop / Markov baselines, trained on the leave-one-out split and evaluated by both protocols of
minseq.models.evaluation.

Training examples: each user's training history s gives inputs s[:-1] and targets s[1:] (every
position predicts the next item), the last ``maxlen`` kept and padded on the LEFT, so the latest
item sits in the last column, as the evaluation reads it. Validation after every epoch: sampled
HR@10 / NDCG@10 on the validation events; early stopping watches NDCG@10 and the best epoch's
weights are kept, saved to ``OUT/model.npz`` with the config that rebuilds the model, and the
curves to ``OUT/curves.png``.

Recommended settings for MovieLens-1M in ``user item`` format (the SASRec paper's: d = 50,
2 blocks, 1 head, maxlen 200, dropout 0.2, lr 0.001, batch 128, Adam betas (0.9, 0.98)):

    python -m minseq train --model sasrec --format user-item --data ml-1m.txt \\
        --maxlen 200 --hidden 50 --layers 2 --heads 1 --dropout 0.2 --lr 0.001 \\
        --batch-size 128 --epochs 200 --patience 20

The defaults below are smaller (maxlen 50; at most 50 epochs for SASRec, 30 for GRU4Rec, both
with early stopping) so a run on the synthetic log or on short histories finishes in minutes on
a CPU; long histories want the larger maxlen. On wikipedia.txt SASRec stopped after 48 epochs.
"""

import time
from pathlib import Path

from .. import checkpoint
from ..fast import tier
from ..data import Batches, pad_sequences
from ..optim import Adam
from ..plot import training_curves
from ..train import Trainer
from .baselines import Markov, Pop
from .evaluation import Protocol, evaluate as evaluate_protocol, sampled_metrics
from .gru4rec import GRU4Rec
from .sasrec import BETAS, SASRec

DEFAULTS = {
    "sasrec": dict(epochs=50, batch_size=128, lr=1e-3, maxlen=50, hidden=50, heads=1, layers=2,
                   dropout=0.2, patience=5, clip=None),
    "gru4rec": dict(epochs=30, batch_size=128, lr=2e-3, maxlen=50, hidden=64, heads=None,
                    layers=None, dropout=0.2, patience=5, clip=5.0),
    "pop": dict(maxlen=50),
    "markov": dict(maxlen=50),
}
FULL_SOFTMAX_UP_TO = 20000  # larger catalogues train GRU4Rec on a sampled softmax
N_SAMPLED = 2048


def settings(args):
    """The run's settings: each of ``args`` that is not None, else the model's default."""
    out = dict(DEFAULTS[args.model])
    for key in out:
        value = getattr(args, key, None)
        if value is not None:
            out[key] = value
    return out


def model_kwargs(name, n_items, s, seed):
    """Constructor arguments of model ``name`` (saved in the checkpoint's config)."""
    if name == "sasrec":
        return dict(n_items=n_items, maxlen=s["maxlen"], d=s["hidden"], num_blocks=s["layers"],
                    num_heads=s["heads"], dropout=s["dropout"], seed=seed)
    if name == "gru4rec":
        return dict(n_items=n_items, d=s["hidden"], dropout=s["dropout"], seed=seed,
                    n_sampled=None if n_items <= FULL_SOFTMAX_UP_TO else N_SAMPLED)
    return dict(n_items=n_items)


MODELS = {"sasrec": SASRec, "gru4rec": GRU4Rec, "pop": Pop, "markov": Markov}


def training_batches(sequences, maxlen, batch_size, seed):
    """Batches of (inputs, targets, mask), (N, maxlen) each, left-padded."""
    pairs = [(s[:-1], s[1:]) for s in sequences if len(s) >= 2]
    inputs, mask = pad_sequences([p[0] for p in pairs], maxlen, padding="pre")
    targets, _ = pad_sequences([p[1] for p in pairs], maxlen, padding="pre")
    return Batches(inputs, targets, mask, batch_size=batch_size, seed=seed)


def train(args, table):
    """Train ``args.model`` on ``table`` and evaluate it on the test events; see the module
    docstring. Returns the result dict of minseq.models.command."""
    import minseq
    s = settings(args)
    out = Path(args.out or Path("out") / "train" / args.model)
    minseq.manual_seed(args.seed)
    protocol = Protocol(table, s["maxlen"], seed=args.seed)
    kwargs = model_kwargs(args.model, table.n_items, s, args.seed)
    model = MODELS[args.model](**kwargs)
    config = {"model": args.model, "task": "next-item", "kwargs": kwargs, "maxlen": s["maxlen"]}
    path = out / "model.npz"
    t0 = time.perf_counter()
    if args.model in ("pop", "markov"):
        model.fit(protocol.train_sequences)
        seconds = time.perf_counter() - t0
        checkpoint.save(path, model, config=config)
        epochs, per_epoch = 0, seconds
    else:
        batches = training_batches(protocol.train_sequences, s["maxlen"], s["batch_size"],
                                   args.seed)
        model = tier(model, args.reference)
        trainer = Trainer(model, Adam(model, lr=s["lr"], betas=BETAS), clip_norm=s["clip"],
                          progress=not args.quiet)
        history = trainer.fit(batches, s["epochs"],
                              validate=lambda m: sampled_metrics(m, protocol.valid),
                              monitor="ndcg@10", patience=s["patience"], checkpoint_path=path,
                              config=config)
        seconds = time.perf_counter() - t0
        epochs = len(history["epoch"])
        per_epoch = sum(history["seconds"]) / epochs
        training_curves(history, out / "curves.png", title=f"{args.model} (next item)")
    metrics = evaluate_protocol(model, protocol.test)
    return {"metrics": metrics, "train_seconds": seconds, "seconds_per_epoch": per_epoch,
            "epochs": epochs, "model": args.model, "checkpoint": str(path),
            "settings": s, "parameters": model.num_parameters(),
            "sampled_negatives": protocol.n_negatives}


def evaluate(args, table, checkpoint_path):
    """Rebuild the model from the checkpoint alone and evaluate it on ``table``'s test events."""
    _, _, config = checkpoint.read(checkpoint_path)
    if config.get("model") not in MODELS:
        raise checkpoint.CheckpointError(f"checkpoint {checkpoint_path}: unknown next-item model "
                                         f"{config.get('model')!r}")
    if config["kwargs"]["n_items"] != table.n_items:
        raise checkpoint.CheckpointError(
            f"checkpoint {checkpoint_path} was trained on {config['kwargs']['n_items']} items, "
            f"the data has {table.n_items}")
    model = MODELS[config["model"]](**config["kwargs"])
    checkpoint.load(checkpoint_path, model)
    model = tier(model, args.reference)
    protocol = Protocol(table, config["maxlen"], seed=args.seed)
    return {"metrics": evaluate_protocol(model, protocol.test), "model": config["model"],
            "epoch": config.get("epoch"), "sampled_negatives": protocol.n_negatives}
