"""``python -m minseq bench``: run the benchmark and write its report."""

from ..bench.harness import run_benchmark
from ..bench.report import markdown_report, write_report


def add_arguments(p):
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, 2 samples, no idle gap: checks the harness in seconds")
    p.add_argument("--repeats", type=int, default=None, help="timed samples per function")
    p.add_argument("--warmup", type=int, default=None, help="untimed calls before timing")
    p.add_argument("--gap", type=float, default=None,
                   help="idle seconds between samples (default 0.2: BLAS worker threads spin "
                        "for about 0.1 s after a call)")
    p.add_argument("--only", nargs="*", default=None,
                   help="only these layers, e.g. LSTM MultiHeadAttention GRU4Rec")
    p.add_argument("--no-gpu", action="store_true", help="skip the GPU rows")
    p.add_argument("--out", default="out/bench",
                   help="folder for results.json, results.md and figures (default out/bench; "
                        "only `--out benchmarks/results` updates the committed results)")


def run(args):
    result = run_benchmark(quick=args.quick, repeats=args.repeats, warmup=args.warmup,
                           gap=args.gap, only=args.only, gpu=not args.no_gpu)
    paths = write_report(result, args.out)
    print()
    print(markdown_report(result))
    print("wrote " + ", ".join(str(p) for p in paths) + f" ({result['seconds']} s)")
    return 0
