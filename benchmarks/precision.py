"""How far float32 lies from float64 in one benchmark case, for each of the three sides.

    python benchmarks/precision.py [--layer TransformerEncoderLayer] [--size 16,512,256,8]

One forward and backward of the case (the benchmark's weights, x and dy) on the reference tier,
the fast tier and PyTorch (when installed), in float32, each measured against the reference tier
run in float64 on the same weights and inputs (and PyTorch in float64 against it, as a check that
the two float64 runs are one function). The error is the agreement check's: max|a - b| / max|b|,
for the output y and the input gradient dx. If the fast tier's blocked softmax or LayerNorm summed
worse than the reference, its column would be the larger; the README's Method section quotes this
run to set the agreement tolerance.
"""

import argparse

import numpy

from minseq.bench.cases import build_module, layer_cases, minseq_side, to_host, torch_side
from minseq.bench.machine import optional_torch
from minseq.fast import accelerate


def relative(a, truth):
    a, truth = to_host(a).astype(numpy.float64), to_host(truth).astype(numpy.float64)
    return float(numpy.abs(a - truth).max() / numpy.abs(truth).max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", default="TransformerEncoderLayer")
    parser.add_argument("--size", default="16,512,256,8", help="the case's size, e.g. 2,6,8,2")
    args = parser.parse_args(argv)
    size = tuple(int(n) for n in args.size.split(","))
    matches = [c for c in layer_cases() + layer_cases(quick=True)
               if c.layer == args.layer and c.size == size]
    if not matches:
        parser.error(f"no benchmark case {args.layer} {size} (see minseq/bench/cases.py)")
    case = matches[0]
    module = build_module(case)
    truth = minseq_side(case, module.copy().astype(numpy.float64), numpy.float64).step()
    sides = {"reference float32": minseq_side(case, module),
             "fast float32": minseq_side(case, accelerate(module.copy()))}
    torch = optional_torch()
    if torch is not None:
        sides["PyTorch float32"] = torch_side(case, torch, module)
        sides["PyTorch float64"] = torch_side(case, torch, module, dtype=numpy.float64)
    print(f"{case.name}: max|a - b| / max|b| against the reference tier in float64")
    print(f"  {'side':<20}{'output':>12}{'input grad':>12}")
    for name, side in sides.items():
        y, dx = side.step()
        print(f"  {name:<20}{relative(y, truth[0]):>12.2e}{relative(dx, truth[1]):>12.2e}")
    if torch is None:
        print("  (PyTorch not installed: no PyTorch rows)")


if __name__ == "__main__":
    main()
