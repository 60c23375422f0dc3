"""``python -m minseq gradcheck [NAME ...]``: every registered backward (minseq.gradcheck)
against numerical gradients, as a table."""

import sys

from .. import backend
from ..gradcheck.registry import CASES, run_case


def add_arguments(p):
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--tol", type=float, default=None,
                   help="largest relative error that passes (default: each case's, 1e-6 for "
                        "layers, 1e-5 for whole Transformer blocks)")
    p.add_argument("layers", nargs="*", help="only these registered layers (default: all)")


def run(args):
    if args.backend:
        backend.use_backend(args.backend)
    names = args.layers or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"minseq gradcheck: unknown layer(s) {unknown}; known: {list(CASES)}",
              file=sys.stderr)
        return 2
    print(f"gradient check, float64 central differences, backend {backend.get_backend()}\n")
    print(f"{'layer':<32} {'tensor':<24} {'max rel. error':>14} {'tol':>7}  result")
    print("-" * 88)
    failures = 0
    for name in names:
        tol = CASES[name].tol if args.tol is None else args.tol
        for tensor, err in run_case(name, tol).items():
            ok = err <= tol
            failures += not ok
            print(f"{name:<32} {tensor:<24} {err:>14.2e} {tol:>7.0e}  {'pass' if ok else 'FAIL'}")
    print("-" * 88)
    print("all passed" if not failures else f"{failures} tensor(s) FAILED")
    return 1 if failures else 0
