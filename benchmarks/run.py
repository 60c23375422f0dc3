"""Run the benchmark: ``python benchmarks/run.py [--quick] [--out DIR]`` (see ``--help``).

The same as ``python -m minseq bench``; results go to benchmarks/results/ by default.
"""

from minseq.cli import main

if __name__ == "__main__":
    import sys
    raise SystemExit(main(["bench", *sys.argv[1:]]))
