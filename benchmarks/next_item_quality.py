"""Next-item quality against wall time: SASRec (and GRU4Rec) trained with each loss on a
`user item` file.

    python benchmarks/next_item_quality.py --data PATH/Video.txt [--minutes 60]
        [--losses bce gbce sampled-ce ce] [--gru4rec ce sampled-ce] [--loss-negatives K]
        [--threads 1] [--jobs 1] [--append]

For each loss (minseq.models.sasrec, --loss) SASRec trains under the leave-one-out protocol of
``minseq.tasks.evaluation`` with the SASRec paper's settings for the Amazon logs (maxlen 50,
d 50, 2 blocks, 1 head, dropout 0.5, lr 0.001, batch 128) until ``--minutes`` of wall time
have passed (checked between epochs), ``--epochs`` are done or validation NDCG@10 (sampled) has
not improved for ``--patience`` epochs. It records validation NDCG@10 after each epoch against
the wall time since the start, and at the best epoch the test metrics of both protocols:
sampled (the target against 100 unseen items, the paper's) and full ranking (every item, seen
ones not excluded), NDCG@10 and HR@10; the epochs, the seconds and the peak memory (the
process's maximum resident set: each loss runs in a process of its own) and the BLAS that
process multiplied with (its kernel, threads and the kernel variables in force). ``--gru4rec`` adds
GRU4Rec with its cross-entropy over every item (``ce``) or over the batch's targets and 2,048
uniform draws (``sampled-ce``: what ``minseq train`` picks above 20,000 items); ``--losses``
with no loss trains GRU4Rec alone. Each model trains as ``minseq train`` trains it: its
fast-tier twin (minseq.fast.tier).

``--jobs 2`` trains two models at a time, each in its own process with ``--threads`` BLAS
threads (on a 2-core machine: one core each); the table says how many ran at a time.
``--append`` adds this run's rows to the table already in ``--results`` (a row of the same
model and loss is replaced), so models can be trained with different budgets; each row states
its own budget.

Writes ``next_item_quality.md`` (the table), ``.json`` (every curve and setting) and ``.png``
(NDCG@10 against minutes) under ``--results`` (default out/bench). The data file is not part
of the project (Video.txt is the SASRec authors' Amazon Video log); a missing file is one line
on stderr, exit status 2.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import minseq
from minseq import checkpoint
from minseq.bench.kernel import blas_variables
from minseq.bench.machine import blas_info, cpu_model
from minseq.bench.report import blas_line, variables_line
from minseq.data import load
from minseq.fast import tier
from minseq.files import atomic_write
from minseq.models.registry import MODELS
from minseq.models.sasrec import BETAS, LOSSES
from minseq.optim import Adam
from minseq.plot import pyplot, save_figure
from minseq.tasks.evaluation import Protocol, evaluate, monitored, validation_metrics
from minseq.tasks.next_item import N_SAMPLED, training_batches
from minseq.tasks.settings import settings_for
from minseq.threads import set_threads
from minseq.train import Trainer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "Video.txt"
#: the SASRec paper's settings for the Amazon logs (Beauty, Games: maxlen 50, dropout 0.5)
PAPER = dict(maxlen=50, d_model=50, num_layers=2, num_heads=1, dropout=0.5, lr=1e-3,
             batch_size=128, clip=None)
GRU4REC_LOSSES = ("ce", "sampled-ce")


class TimeUp(Exception):
    """The time budget ran out between two epochs."""


class Budget:
    """The training batches, refusing a new epoch once ``deadline`` (perf_counter) has passed;
    the first epoch always runs, so there is a best epoch to test."""

    def __init__(self, batches, deadline):
        self.batches, self.deadline, self.started = batches, deadline, False

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        if self.started and time.perf_counter() > self.deadline:
            raise TimeUp
        self.started = True
        return iter(self.batches)


def train_one(table, model, loss, a):
    """Train one model with ``loss`` within the budget; the curve and the test metrics of its
    best epoch, both protocols."""
    given = dict(epochs=a.epochs, patience=a.patience)
    if model == "sasrec":
        given.update(PAPER, loss=loss, loss_negatives=a.loss_negatives)
    else:
        given.update(n_sampled=N_SAMPLED if loss == "sampled-ce" else None)
    s = settings_for(model, given)
    minseq.manual_seed(a.seed)
    protocol = Protocol(table, s["maxlen"], n_negatives=s["negatives"], seed=a.seed)
    spec = MODELS[model]
    net = tier(spec.build(dict(s, seed=a.seed), n_items=table.n_items))
    trainer = Trainer(net, Adam(net, lr=s["lr"], betas=BETAS), clip_norm=s["clip"],
                      progress=False)
    options = dict(ks=(10,), exclude_seen=False)
    curve, start = [], time.perf_counter()

    def validate(m):
        metrics = validation_metrics(m, protocol.valid, **options)
        curve.append((time.perf_counter() - start, metrics["sampled ndcg@10"]))
        print(f"{model} {loss or ''} epoch {len(curve)}  {curve[-1][0]:.0f} s  "
              f"valid sampled ndcg@10 {curve[-1][1]:.4f}", flush=True)
        return metrics

    batches = Budget(training_batches(protocol.train_sequences, s["maxlen"], s["batch_size"],
                                      a.seed), start + 60 * a.minutes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "best.npz"
        try:
            trainer.fit(batches, s["epochs"], validate=validate,
                        monitor=monitored((10,), s["negatives"]), patience=s["patience"],
                        checkpoint_path=path, config={"model": model})
        except TimeUp:
            checkpoint.load(path, net)          # the best epoch's weights, saved when it ended
        seconds = time.perf_counter() - start
        metrics = evaluate(net, protocol.test, **options)
    best = max(range(len(curve)), key=lambda i: curve[i][1])
    return {"model": model, "loss": loss, "settings": s, "curve": curve,
            "minutes": a.minutes, "jobs": a.jobs, "threads": a.threads,
            "epochs": len(curve), "best_epoch": best + 1, "seconds": seconds,
            "test": metrics, "users_evaluated": len(protocol.test.targets),
            "sampled_negatives": protocol.n_negatives,
            "negatives_per_position": getattr(net, "n_negatives", None),
            "draws_per_batch": s.get("n_sampled") if (s.get("n_sampled") or 0) < table.n_items
            else None,                          # as many as the catalogue: the full softmax
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "blas": blas_of_this_process()}


def blas_of_this_process():
    """"openblas 0.3.31, kernel Haswell, 1 thread; BLAS variables: none": what the model's
    process multiplied with (the kernel is what OpenBLAS picked or was told to take)."""
    machine = {"blas": blas_info(), "blas_variables": blas_variables()}
    return f"{blas_line(machine)}; {variables_line(machine)}"


def blas_sentence(results):
    """Each BLAS the rows ran on, with its rows when they differ; a row from a run before the
    BLAS was recorded says so."""
    by_blas = {}
    for r in results:
        by_blas.setdefault(r.get("blas", "not recorded"), []).append(f"{r['model']} {r['loss']}")
    if len(by_blas) == 1:
        return f"BLAS: {next(iter(by_blas))}."
    return "BLAS: " + "; ".join(f"{blas} ({', '.join(rows)})"
                                for blas, rows in by_blas.items()) + "."


def table_markdown(results, meta):
    lines = [f"# Next-item losses on {meta['data']} ({meta['users']:,} users, "
             f"{meta['items']:,} items, {meta['events']:,} events)", "",
             f"Leave-one-out in time order, {meta['users_evaluated']:,} users evaluated (every "
             f"user with a test event); sampled = target vs {meta['sampled_negatives']} unseen "
             "items (the paper's protocol), full "
             "= target vs every item (seen items not excluded); test metrics at the best "
             "validation epoch (sampled NDCG@10). "
             f"Backend {meta['backend']}, {meta['cpus']} CPUs ({meta['cpu']}), seed "
             f"{meta['seed']}; budget: wall minutes per model, checked between epochs; "
             "at a time: models trained at once, each in its own process with the BLAS "
             "threads stated. " + blas_sentence(results), "",
             "| model | loss | NDCG@10 sampled | HR@10 sampled | NDCG@10 full | HR@10 full | "
             "epochs (best) | seconds | budget min | at a time x threads | peak memory MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        s, f = r["test"]["sampled"], r["test"]["full"]
        negatives, draws = r["negatives_per_position"], r.get("draws_per_batch")
        loss = r["loss"] + (f", K={negatives}" if negatives else "") + \
            (f", {draws} draws a batch" if draws else "")
        lines.append(f"| {r['model']} | {loss} | {s['ndcg@10']:.4f} | {s['hit@10']:.4f} | "
                     f"{f['ndcg@10']:.4f} | {f['hit@10']:.4f} | {r['epochs']} "
                     f"({r['best_epoch']}) | {r['seconds']:.0f} | {r['minutes']:g} | "
                     f"{r['jobs']} x {r['threads']} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def figure(results, path):
    """Validation NDCG@10 against wall time (what the budget buys) and against epochs (what
    each epoch learns, whatever else the machine was doing)."""
    plt = pyplot()
    fig, (by_time, by_epoch) = plt.subplots(1, 2, figsize=(10.4, 4.2), sharey=True)
    for r in results:
        t, ndcg = zip(*r["curve"])
        label = f"{r['model']} {r['loss']}"
        by_time.plot([x / 60 for x in t], ndcg, marker=".", label=label)
        by_epoch.plot(range(1, len(ndcg) + 1), ndcg, marker=".", label=label)
    by_time.set_xlabel("wall time (minutes)")
    by_epoch.set_xlabel("epoch")
    by_time.set_ylabel("validation NDCG@10 (sampled)")
    for ax in (by_time, by_epoch):
        ax.grid(alpha=0.3)
    by_epoch.legend()
    save_figure(fig, path)


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DATA),
                   help="a user-item file (default ../shared/data/Video.txt beside the checkout)")
    p.add_argument("--losses", nargs="*", choices=LOSSES, default=list(LOSSES),
                   help="SASRec's losses to train (default all; none: GRU4Rec alone)")
    p.add_argument("--gru4rec", nargs="+", choices=GRU4REC_LOSSES, default=[],
                   help="add GRU4Rec with these losses")
    p.add_argument("--minutes", type=float, default=60.0,
                   help="wall-time budget per model, checked between epochs; the first epoch "
                        "always runs (default 60)")
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--loss-negatives", type=int, default=None,
                   help="negatives per position of bce, gbce, sampled-ce (default: each loss's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads of each model's process (default 1)")
    p.add_argument("--jobs", type=int, default=1,
                   help="models trained at once, each in its own process (default 1)")
    p.add_argument("--append", action="store_true",
                   help="add the rows to the table in --results, replacing those of the same "
                        "model and loss")
    p.add_argument("--results", default="out/bench",
                   help="folder for the table, its JSON and the figure (default out/bench)")
    p.add_argument("--one", nargs=2, metavar=("MODEL", "LOSS"), help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parser().parse_args(argv)
    if not Path(a.data).is_file():
        print(f"next_item_quality: no data file at {a.data}; pass --data PATH/Video.txt "
              f"(a user-item file)", file=sys.stderr)
        return 2
    set_threads(a.threads)
    if a.one:                                  # a child: one model, its peak memory its own
        model, loss = a.one
        result = train_one(load(a.data, "user-item"), model, loss, a)
        Path(a.json).write_text(json.dumps(result))
        return 0
    if a.jobs < 1 or a.threads < 1:
        print("next_item_quality: --jobs and --threads must be at least 1", file=sys.stderr)
        return 2
    runs = [("sasrec", loss) for loss in a.losses] + [("gru4rec", loss) for loss in a.gru4rec]
    if not runs:
        print("next_item_quality: nothing to train; name --losses or --gru4rec",
              file=sys.stderr)
        return 2
    table = load(a.data, "user-item")
    folder = Path(a.results)
    results = []
    with tempfile.TemporaryDirectory() as temporary:
        outs = [Path(temporary) / f"{model}-{loss}.json" for model, loss in runs]
        for wave in range(0, len(runs), a.jobs):
            children = [subprocess.Popen([sys.executable, __file__, *argv, "--one", model,
                                          loss, "--json", str(out)])
                        for (model, loss), out in zip(runs[wave:wave + a.jobs],
                                                      outs[wave:wave + a.jobs])]
            if any(child.wait() for child in children):
                print("next_item_quality: a model's run failed (its error is above)",
                      file=sys.stderr)
                return 1
        results = [json.loads(out.read_text()) for out in outs]
    if a.append and (folder / "next_item_quality.json").is_file():
        kept = json.loads((folder / "next_item_quality.json").read_text())["results"]
        new = {(r["model"], r["loss"]) for r in results}
        results = [r for r in kept if (r["model"], r["loss"]) not in new] + results
    meta = {"data": Path(a.data).name, "users": table.n_users, "items": table.n_items,
            "events": len(table), "users_evaluated": results[0]["users_evaluated"],
            "sampled_negatives": results[0]["sampled_negatives"],
            "backend": minseq.get_backend(), "cpus": os.cpu_count(), "cpu": cpu_model(),
            "seed": a.seed, "machine": platform.machine(),
            "python": platform.python_version()}
    with atomic_write(folder / "next_item_quality.json", "w") as f:
        f.write(json.dumps({"meta": meta, "results": results}, indent=2, sort_keys=True) + "\n")
    with atomic_write(folder / "next_item_quality.md", "w") as f:
        f.write(table_markdown(results, meta))
    figure(results, folder / "next_item_quality.png")
    print(table_markdown(results, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
