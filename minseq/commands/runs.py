"""What ``minseq train`` and ``minseq evaluate`` share: the data flags, loading the table, the
metrics table and ``--metrics-out``.

A task pipeline (minseq.tasks) returns a result dict with ``metrics`` (a flat dict, or one dict
per evaluation protocol) and whatever else the run reports; the command prints the metrics and
writes the whole result as JSON.
"""

import json
import sys

from .. import backend
from ..checkpoint import CheckpointError
from ..data import FORMATS, DataFormatError, generate, load
from ..files import atomic_write
from ..tasks import TASKS, crossval


def add_data_arguments(p):
    p.add_argument("--data", default="synthetic",
                   help="'synthetic' (a generated log) or the PATH of a behaviour log")
    p.add_argument("--format", choices=list(FORMATS), default="user-item",
                   help="file format of --data PATH (default user-item)")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip malformed rows, count them")
    p.add_argument("--users", type=int, default=2000, help="synthetic log: number of users")
    p.add_argument("--items", type=int, default=500, help="synthetic log: number of items")
    p.add_argument("--task", choices=TASKS, default=None,
                   help="next-item (the recommenders' task) or next-behaviour / will-purchase "
                        "/ churn (the classifiers'; default next-behaviour; recency: churn)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, weights and batches")
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--metrics-out", default=None, metavar="FILE.json",
                   help="also write the final metrics and training time as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--reference", action="store_true",
                   help="run the plain reference layers of minseq.nn instead of their fast "
                        "twins (minseq.fast; the same function, tested equal)")


def load_table(args):
    """The event table named by --data / --format (a generated log for 'synthetic')."""
    if args.data == "synthetic":
        return generate(n_users=args.users, n_items=args.items, seed=args.seed)
    return load(args.data, args.format, args.skip_bad_rows)


def print_metrics(metrics, stream=None):
    """A table: one row per metric, one column per protocol (or one column of values)."""
    stream = stream or sys.stdout  # looked up per call: a default bound at import goes stale
    if metrics and all(isinstance(v, dict) for v in metrics.values()):
        protocols = list(metrics)
        names = list(dict.fromkeys(k for p in protocols for k in metrics[p]))
        print(f"{'metric':<14}" + "".join(f"{p:>14}" for p in protocols), file=stream)
        for n in names:
            cells = [metrics[p].get(n) for p in protocols]
            print(f"{n:<14}" + "".join(f"{'-' if c is None else format(c, '.4f'):>14}"
                                       for c in cells), file=stream)
    else:
        for n, v in metrics.items():
            print(f"{n:<14}{v:>14.4f}", file=stream)


def write_json(path, payload):
    """Write ``payload`` as JSON atomically (temporary file, then rename)."""
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2, sort_keys=True)


def run_task(args, action, work):
    """Load the table, run ``work(table) -> result`` and report it; a bad file, checkpoint or
    setting is one line on stderr and exit status 1."""
    if args.backend:
        backend.use_backend(args.backend)
    try:
        table = load_table(args)
        result = work(table)
    except (DataFormatError, CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"minseq {action}: {exc}", file=sys.stderr)
        return 1
    result = dict(result, data=args.data, seed=args.seed, backend=backend.get_backend(),
                  layers="reference" if args.reference else "fast")
    print()
    for line in crossval.lines(result["cross_validation"]) if "cross_validation" in result else ():
        print(line)
    print_metrics(result["metrics"])
    if args.metrics_out:
        write_json(args.metrics_out, result)
        print(f"\nmetrics written to {args.metrics_out}")
    return 0
