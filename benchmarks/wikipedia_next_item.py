"""Next-item quality and speed on the Wikipedia `user item` file: SASRec, GRU4Rec, pop, Markov.

    python benchmarks/wikipedia_next_item.py --data PATH/wikipedia.txt
        [--epochs-sasrec 80] [--epochs-gru4rec 30] [--seed 0] [--threads 1]

Each model is trained by ``minseq.tasks.train`` (what ``minseq train`` runs) under
the evaluation protocol of ``minseq.tasks.evaluation``: leave-one-out in time order, sampled
hit@10 / NDCG@10 against 100 unseen negatives, and full-ranking hit@10 / NDCG@10 / MRR@10
(items already seen are not excluded). Early stopping on validation NDCG@10 (sampled). Seconds
per epoch are wall time on this machine's CPUs, the validation pass included, on OpenBLAS's
native kernel (the script runs itself again without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
when they are set; README, benchmark method). Writes ``wikipedia_next_item.md`` and ``.json``
under ``--results`` (default out/bench; ``--results benchmarks/results`` updates the committed
table). The defaults are the settings of the README's table.

The data file is not part of the project: ``--data`` names it (default
``../shared/data/wikipedia.txt``, beside the checkout, where it was when the table was taken); a
missing file is one line on stderr, exit status 2.

``--threads`` sets the BLAS threads (minseq.threads, default 1): on a shared, busy machine two
spinning OpenBLAS threads made every small product 10-15x slower.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import minseq
from minseq import tasks
from minseq.bench.kernel import run_natively
from minseq.bench.machine import blas_info
from minseq.data import load
from minseq.files import atomic_write
from minseq.threads import set_threads

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikipedia.txt"
NOT_SHOWN = ("seed", "k", "negatives", "exclude_seen")  # the same for every row


def run(model, table, epochs, seed, out):
    t0 = time.perf_counter()
    result = tasks.train(table, model, settings={"epochs": epochs}, seed=seed, out=out / model,
                         quiet=True)
    result["wall_seconds"] = time.perf_counter() - t0
    return result


def table_markdown(results, meta):
    lines = [f"# Next-item recommendation on wikipedia.txt ({meta['users']} users, "
             f"{meta['items']} items, {meta['events']} events)", "",
             "Leave-one-out in time order; sampled = target vs 100 unseen items, full = target "
             "vs all items (seen items not excluded); ties pessimistic. "
             f"Backend {meta['backend']}, {meta['cpus']} CPUs "
             f"({meta['blas_threads']} BLAS thread"
             + (f", OpenBLAS kernel {meta['blas']['kernel']}" if meta.get("blas") else "")
             + "), "
             f"seed {meta['seed']}; seconds per epoch include the validation pass.", "",
             "| model | hit@10 sampled | NDCG@10 sampled | hit@10 full | NDCG@10 full | "
             "MRR@10 full | epochs | s / epoch | settings |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        s, f = r["metrics"]["sampled"], r["metrics"]["full"]
        per_epoch = f"{r['seconds_per_epoch']:.1f}" if r["epochs"] else "-"
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items()
                             if v is not None and k not in NOT_SHOWN)
        lines.append(f"| {name} | {s['hit@10']:.4f} | {s['ndcg@10']:.4f} | {f['hit@10']:.4f} | "
                     f"{f['ndcg@10']:.4f} | {f['mrr@10']:.4f} | {r['epochs']} | {per_epoch} | "
                     f"{settings} |")
    return "\n".join(lines) + "\n"


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DATA),
                   help="the wikipedia.txt user-item file (default ../shared/data/wikipedia.txt "
                        "beside the checkout)")
    p.add_argument("--epochs-sasrec", type=int, default=80)
    p.add_argument("--epochs-gru4rec", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "out" / "bench_wikipedia"))
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--results", default="out/bench",
                   help="folder for the table and its JSON (default out/bench; the committed "
                        "ones are in benchmarks/results)")
    return p


def main(argv=None):
    a = parser().parse_args(argv)
    if not Path(a.data).is_file():
        print(f"wikipedia_next_item: no data file at {a.data}; pass --data PATH/wikipedia.txt "
              f"(see README, Next-item recommendation)", file=sys.stderr)
        return 2
    run_natively([__file__, *(sys.argv[1:] if argv is None else argv)],
                 "wikipedia_next_item.py")
    set_threads(a.threads)
    table = load(a.data, "user-item")
    meta = {"users": table.n_users, "items": table.n_items, "events": len(table),
            "backend": minseq.get_backend(), "cpus": os.cpu_count(), "seed": a.seed,
            "blas_threads": a.threads, "blas": blas_info(),
            "machine": platform.machine(), "python": platform.python_version()}
    epochs = {"pop": None, "markov": None, "gru4rec": a.epochs_gru4rec, "sasrec": a.epochs_sasrec}
    results = {}
    for model in ("pop", "markov", "gru4rec", "sasrec"):
        results[model] = run(model, table, epochs[model], a.seed, Path(a.out))
        m = results[model]["metrics"]
        print(f"{model:8s} sampled {m['sampled']}  full {m['full']}  "
              f"{results[model]['wall_seconds']:.0f} s", flush=True)
    folder = Path(a.results)
    with atomic_write(folder / "wikipedia_next_item.json", "w") as f:
        f.write(json.dumps({"meta": meta, "results": results}, indent=2, sort_keys=True) + "\n")
    with atomic_write(folder / "wikipedia_next_item.md", "w") as f:
        f.write(table_markdown(results, meta))
    print(table_markdown(results, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
