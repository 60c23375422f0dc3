"""PyTorch's epochs on the run a ``minseq train`` command line makes:
``python benchmarks/pytorch_epochs.py --model sasrec --users 2000 --epochs 2 --threads 2``.

It reads ``minseq train``'s own flags (its parser, so a flag means the same on both sides),
builds that run's data, batches, model and optimiser (minseq.bench.torch_epochs), trains the
model's PyTorch counterpart (minseq.bench.torch_models) on them on ``--threads`` threads
(``torch.set_num_threads``; default MINSEQ_THREADS, else 1), and prints one JSON line: the
examples/s of each epoch's training pass, the threads PyTorch ran on, the minseq model's
parameter count, and PyTorch's version, BLAS and vector code path. ``data_parallel.py`` runs
it for its PyTorch set-ups (on OpenBLAS's native kernel; run it so, too, when timing by hand).
"""

import argparse
import json
import sys

from minseq.commands.loading import data_settings, load_table
from minseq.commands.train import SETTINGS, add_arguments
from minseq.tasks.settings import RunSettings
from minseq.threads import threads_setting


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    args = p.parse_args(argv)
    if args.model is None:
        p.error("--model is required")
    if args.backend not in (None, "numpy"):
        p.error("PyTorch trains on the CPU here: --backend numpy only")
    if args.folds != 1 or args.grid or args.resume:
        p.error("one run, from scratch: no --folds, --grid or --resume")
    try:
        run = RunSettings(model=args.model, task=args.task,
                          model_settings={k: getattr(args, k) for k in SETTINGS},
                          seed=args.seed or 0, quiet=True, dtype=args.dtype or "float32")
        threads = threads_setting(args.threads)
    except ValueError as exc:
        p.error(str(exc))
    if run.spec.fitted:
        p.error(f"{run.model} is fitted in one pass, not trained by epochs")
    import torch
    from minseq.bench.torch_epochs import epoch_rates, torch_build, training_run
    from minseq.bench.torch_models import torch_model
    torch.set_num_threads(threads)
    training = training_run(run, load_table(data_settings(args), run.seed, quiet=True))
    rates = epoch_rates(torch, torch_model(training.net), training)
    print(json.dumps({"rates": rates, "threads": torch.get_num_threads(),
                      "parameters": training.net.num_parameters(), "torch": torch_build(torch)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
