"""How many array operations one forward of each layer runs, per tier: on a GPU, the kernel
launches it pays. ``python benchmarks/launches.py`` writes ``results/launches.md``.

Counted on the strict backend (``minseq.bench.launches``: every ``xp`` function, operator,
array method and assignment into an array; views and ``empty`` left out), float32, at the
benchmark's sizes (``minseq.bench.cases``), threads 1. A count is a property of the code, not of
the machine: it is the same on every run. Columns:

- reference: ``minseq.nn``;
- fast: ``minseq.fast.accelerate``'d, one block as on CuPy (``minseq.fast.buffers``);
- fast, 1 MB blocks: the same twins cut into the CPU's cache-sized blocks, which is what a GPU
  paid before the block size became a setting per backend.

A recurrent layer's count grows with T alone (one step's operations per time step), an
attention layer's not at all on the GPU; with 1 MB blocks it grew with B h T T.
"""

import argparse
from pathlib import Path

import minseq
from minseq import fast
from minseq.bench import cases
from minseq.bench.launches import count_launches
from minseq.fast import buffers
from minseq.files import atomic_write

HERE = Path(__file__).resolve().parent


def launches(case, module):
    """Operations of one forward of ``module`` on the case's input, as the benchmark runs it."""
    forward = cases.minseq_side(case, module).forward
    with count_launches() as ops:
        forward()
    return sum(ops.values())


def count_case(case):
    """(reference, fast with one block, fast with the CPU's blocks) for one benchmark case."""
    reference = cases.build_module(case)
    counts = [launches(case, reference)]
    accelerated = fast.accelerate(reference)
    counts.append(launches(case, accelerated))
    saved = buffers.BLOCK_BYTES["strict"]
    buffers.BLOCK_BYTES["strict"] = buffers.BLOCK_BYTES["numpy"]
    try:
        counts.append(launches(case, accelerated))
    finally:
        buffers.BLOCK_BYTES["strict"] = saved
    return counts


def table(rows):
    lines = ["| layer | size | reference | fast (one block, as on CuPy) | fast, 1 MB blocks |",
             "|---|---|---|---|---|"]
    for case, (ref, one, blocked) in rows:
        lines.append(f"| {case.layer} | {case.label} | {ref} | {one} | {blocked} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(HERE / "results" / "launches.md"))
    p.add_argument("--quick", action="store_true", help="one tiny size per layer (tests)")
    args = p.parse_args(argv)
    minseq.use_backend("strict")
    rows = []
    for case in cases.layer_cases(quick=args.quick):
        rows.append((case, count_case(case)))
        print(f"{case.name:<40} {rows[-1][1]}", flush=True)
    text = ("# Array operations per forward (kernel launches on a GPU)\n\n"
            "Written by `benchmarks/launches.py`; counted on the strict backend, float32, one "
            "forward, threads 1. Counts, not timings: the same on every CPU and BLAS kernel.\n\n"
            + table(rows))
    with atomic_write(args.out, "w") as f:
        f.write(text)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
