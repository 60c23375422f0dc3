"""The order of a run of ``minseq train`` or ``evaluate``, and its report.

Every setting is checked first (a RunSettings is built, or the evaluation options checked), then
the data and output flags (``start``: the synthetic sizes, --threads, --metrics-out writable,
the backend and the threads set), then ``run_task`` checks the data path readable, loads the
table, runs the work (the task is checked against the data there, before training) and reports
it. A bad setting is one line on stderr and exit status 2; a bad file or checkpoint, exit status
1; Ctrl-C, one line and exit status 130.

Under ``mpiexec -n N`` every process runs the same order and process 0 alone prints and writes
(its result, its errors: another process's failure reaches it as ProcessFailed, exit status 1).

A task pipeline (minseq.tasks) returns a result dict with ``metrics`` (a flat dict, or one dict
per evaluation protocol) and whatever else the run reports; the command prints the metrics and
writes the whole result as JSON.
"""

import sys

from .. import backend
from ..checkpoint import CheckpointError
from ..data import DataFormatError
from ..files import write_json
from ..parallel.comm import MPIMissing, launched_size, leads, world
from ..parallel.processes import ProcessFailed
from ..tasks import crossval
from ..tasks.checks import SettingError, check_settings, check_writable
from ..threads import set_threads, threads_setting
from ..train import TrainingInterrupted
from .loading import check_data_path, load_table


def fail(action, exc, status):
    """Print ``minseq ACTION: exc`` on stderr, one line (on the leading process alone, when
    several run), return ``status``; a file error while several run stops them all."""
    if leads():
        print(f"minseq {action}: {exc}", file=sys.stderr)
    if isinstance(exc, OSError) and launched_size() > 1:
        # a file only process 0 writes: the others must not wait for it in their next sum
        sys.stderr.flush()
        world().abort(status)
    return status


def start(args, action, outputs=()):
    """The checks of the data and process flags, then the backend and the threads: None when
    all is well, else the exit status (the error printed). ``outputs``: (path, what,
    is_folder)."""
    try:
        check_settings(dict(users=args.users, items=args.items,
                            threads=threads_setting(args.threads)))
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
        table = load_table(d, seed, quiet=not leads())
        result = work(table)
    except SettingError as exc:
        return fail(action, exc, 2)
    except TrainingInterrupted as exc:
        return fail(action, exc, 130)
    except MPIMissing as exc:
        return fail(action, exc, 2)
    except (DataFormatError, CheckpointError, FileNotFoundError, ValueError,
            ProcessFailed) as exc:
        return fail(action, exc, 1)
    if not leads():
        return 0
    result = dict(result, data=d["data"], seed=seed, backend=backend.get_backend(),
                  layers="reference" if args.reference else "fast")
    print()
    for line in crossval.lines(result["cross_validation"]) if "cross_validation" in result else ():
        print(line)
    print_metrics(result["metrics"], "test")
    if "users_evaluated" in result:   # the SASRec code scores a sample of 10,000 users at most
        print(f"{'users':<11} {result['users_evaluated']:,} evaluated: every user with a test "
              f"event")
    for key, what in (("checkpoint", "checkpoint"), ("curves", "curves"),
                      ("history_csv", "history"), ("folds_csv", "folds")):
        if result.get(key) and action == "train":
            print(f"{what:<11} {result[key]}")
    if args.metrics_out:
        write_json(args.metrics_out, result)
        print(f"metrics     {args.metrics_out}")
    return 0


def print_metrics(metrics, split, stream=None):
    """A table: one row per metric, one column per protocol (or one column of values), the
    header naming the ``split`` scored ("test")."""
    stream = stream or sys.stdout  # looked up per call: a default bound at import goes stale
    if metrics and all(isinstance(v, dict) for v in metrics.values()):
        protocols = list(metrics)
        names = list(dict.fromkeys(k for p in protocols for k in metrics[p]))
        print(f"{'metric':<14}" + "".join(f"{split + ' ' + p:>14}" for p in protocols),
              file=stream)
        for n in names:
            cells = [metrics[p].get(n) for p in protocols]
            print(f"{n:<14}" + "".join(f"{'-' if c is None else format(c, '.4f'):>14}"
                                       for c in cells), file=stream)
    else:
        print(f"{'metric':<14}{split:>14}", file=stream)
        for n, v in metrics.items():
            print(f"{n:<14}{v:>14.4f}", file=stream)

