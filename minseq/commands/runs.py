"""What ``minseq train``, ``evaluate`` and ``recommend`` share: the data and evaluation flags,
the checks made before any work, loading the table, the metrics table and ``--metrics-out``.

Order of a run: every setting is checked (``check``), the output paths are checked writable and
the data path readable, then the threads are set (BLAS and batch shards), the table is loaded
and the task checked against it, and only then does work start. A bad setting is one line on stderr and exit status
2; a bad file or checkpoint, exit status 1; Ctrl-C, one line and exit status 130.

A task pipeline (minseq.tasks) returns a result dict with ``metrics`` (a flat dict, or one dict
per evaluation protocol) and whatever else the run reports; the command prints the metrics and
writes the whole result as JSON.
"""

import json
import os
import sys
from pathlib import Path

from .. import backend
from ..checkpoint import CheckpointError
from ..data import FORMATS, DataFormatError, generate, load
from ..data.loaders import AUTO, check_readable
from ..files import atomic_write
from ..tasks import TASKS, crossval
from ..tasks.checks import SettingError, check_settings
from ..tasks.provenance import sha256
from ..threads import set_threads, threads_setting
from ..train import TrainingInterrupted

SYNTHETIC = "synthetic"


def add_data_arguments(p, defaults_from=None):
    """The data flags; ``defaults_from`` (e.g. "the checkpoint's") when a flag left out takes
    its value from elsewhere than the defaults shown."""
    note = f" (default: {defaults_from})" if defaults_from else ""
    p.add_argument("--data", default=None,
                   help="'synthetic' (a generated log) or the PATH of a behaviour log" +
                        (note or " (default synthetic)"))
    p.add_argument("--format", choices=[AUTO, *FORMATS], default=None,
                   help="file format of --data PATH" + (note or " (default auto: sniffed)"))
    p.add_argument("--skip-bad-rows", action="store_true", default=None,
                   help="skip malformed rows and say how many")
    p.add_argument("--users", type=int, default=None,
                   help="synthetic log: number of users" + (note or " (default 2000)"))
    p.add_argument("--items", type=int, default=None,
                   help="synthetic log: number of items" + (note or " (default 500)"))
    p.add_argument("--seed", type=int, default=None,
                   help="seed of data, weights and batches" + (note or " (default 0)"))
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="threads for BLAS and the fast tier's batch shards (default: "
                        "MINSEQ_THREADS, else 1; README: choosing them)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--reference", action="store_true",
                   help="run the plain reference layers of minseq.nn instead of their fast "
                        "twins (minseq.fast; the same function, tested equal)")


def add_output_arguments(p, task=True):
    if task:
        p.add_argument("--task", choices=TASKS, default=None,
                       help="next-item (the recommenders' task) or next-behaviour / "
                            "will-purchase / churn (the classifiers'; default next-behaviour; "
                            "recency: churn)")
    p.add_argument("--metrics-out", default=None, metavar="FILE.json",
                   help="also write the final metrics and training time as JSON")


def add_ranking_arguments(p, defaults_from="the model's"):
    """The next-item evaluation flags (RecBole's names)."""
    p.add_argument("--k", type=int, nargs="+", default=None, metavar="K",
                   help=f"cutoffs of hit@K, recall@K, ndcg@K, mrr@K (default: {defaults_from}, "
                        "10)")
    p.add_argument("--negatives", type=int, default=None,
                   help="sampled negatives per user; 0: full ranking only (default: "
                        f"{defaults_from}, 100)")
    p.add_argument("--exclude-seen", action="store_true", default=None,
                   help="full ranking without the items each user has seen")


def data_settings(args, saved=None):
    """The data flags, each left out taken from ``saved`` (a checkpoint's), else the default."""
    saved = saved or {}
    default = {"data": saved.get("path", SYNTHETIC), "format": saved.get("format", AUTO),
               "skip_bad_rows": saved.get("skip_bad_rows", False),
               "users": saved.get("users", 2000), "items": saved.get("items", 500)}
    return {k: default[k] if getattr(args, k) is None else getattr(args, k) for k in default}


def check_writable(path, what, folder=False):
    """A SettingError unless ``path`` (a file, or a ``folder``) can be written: the nearest
    existing ancestor must be a writable folder, and the path itself no folder (or no file)."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        raise SettingError(f"{what} {path} is a {'file' if folder else 'folder'}, "
                           f"expected a {'folder' if folder else 'file'}")
    parent = path if folder and path.exists() else path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise SettingError(f"{what} {path}: cannot write there ({parent} is not a writable "
                           f"folder)")


def check_data_path(data):
    """A SettingError for a --data path that is missing, a folder or unreadable."""
    if data == SYNTHETIC:
        return
    try:
        check_readable(data)
    except (DataFormatError, FileNotFoundError) as exc:
        raise SettingError(f"--data {exc}") from None


def load_table(d, seed, quiet=False):
    """The event table of data settings ``d`` (a generated log for 'synthetic'), its
    provenance in ``meta["data"]``; unless ``quiet``, says how many bad rows were skipped and
    which header line."""
    if d["data"] == SYNTHETIC:
        table = generate(n_users=d["users"], n_items=d["items"], seed=seed)
        table.meta["data"] = {"source": SYNTHETIC, "users": d["users"], "items": d["items"]}
        return table
    table = load(d["data"], d["format"], d["skip_bad_rows"])
    table.meta["data"] = {"source": str(Path(d["data"]).resolve()),
                          "path": str(Path(d["data"]).resolve()),
                          "format": table.meta["format"], "skip_bad_rows": d["skip_bad_rows"],
                          "sha256": sha256(d["data"])}
    if quiet:
        return table
    if table.meta.get("header"):
        print(f"note: skipped the header line of {d['data']}: {table.meta['header']!r}",
              file=sys.stderr)
    if d["skip_bad_rows"]:
        print(f"skipped {table.meta['skipped']} bad row(s) of {table.meta['rows']} in "
              f"{d['data']}", file=sys.stderr)
    return table


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


def fail(action, exc, status):
    print(f"minseq {action}: {exc}", file=sys.stderr)
    return status


def start(args, action, settings, outputs=()):
    """The checks before any work, then the backend and the threads: None when all is well,
    else the exit status (the error printed). ``outputs``: (path, what, is_folder)."""
    try:
        check_settings(dict(settings, threads=threads_setting(args.threads)))
        for path, what, folder in outputs:
            if path is not None:
                check_writable(path, what, folder)
        if args.backend:
            backend.use_backend(args.backend)
        set_threads(threads_setting(args.threads))
    except (SettingError, ValueError) as exc:
        return fail(action, exc, 2)
    return None


def run_task(args, action, work, d, seed):
    """Load the table of data settings ``d``, run ``work(table) -> result`` and report it."""
    try:
        check_data_path(d["data"])
        table = load_table(d, seed)
        result = work(table)
    except SettingError as exc:
        return fail(action, exc, 2)
    except TrainingInterrupted as exc:
        return fail(action, exc, 130)
    except (DataFormatError, CheckpointError, FileNotFoundError, ValueError) as exc:
        return fail(action, exc, 1)
    result = dict(result, data=d["data"], seed=seed, backend=backend.get_backend(),
                  layers="reference" if args.reference else "fast")
    print()
    for line in crossval.lines(result["cross_validation"]) if "cross_validation" in result else ():
        print(line)
    print_metrics(result["metrics"])
    for key, what in (("checkpoint", "checkpoint"), ("curves", "curves"),
                      ("history_csv", "history")):
        if result.get(key) and action == "train":
            print(f"{what:<11} {result[key]}")
    if args.metrics_out:
        write_json(args.metrics_out, result)
        print(f"metrics     {args.metrics_out}")
    return 0
