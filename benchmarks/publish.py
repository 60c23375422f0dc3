"""Re-measure every committed benchmark table and figure, on OpenBLAS's native kernel.

    python benchmarks/publish.py                      # = make bench-publish
    python benchmarks/publish.py --quick --out DIR --readme COPY.md    # checks it in a minute

In one go, each part in processes of its own, all without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (README, benchmark method):

1. ``run.py --threads 1``: the results table and figure (``results.{json,md}``,
   ``time_vs_size.png``), every layer and model, one thread for every library;
2. ``scaling.py``: the layers of the targets at 1 .. cores threads (``scaling/``);
3. ``gemm.py``: the GEMM probe, NumPy's BLAS against PyTorch at the same thread counts;
4. ``targets.md``: the targets at 1 thread (run 1) and 2 threads (run 2's ``threads-2``), with
   the GEMM / rest split of each missed one.

With ``--readme`` (the default when ``--out`` is the committed benchmarks/results), the tables
are written into the README between its ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
markers: machine, results, targets, scaling, gemm. The prose around them is not: read the new
numbers and revise it by hand.
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMITTED = HERE / "results"


def run(script, *args):
    """``python benchmarks/<script> args``; a failure stops the publication."""
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)


def table_lines(text):
    """The markdown table (its ``|`` lines) of a written report."""
    return "\n".join(line for line in text.splitlines() if line.startswith("|"))


def sections(out):
    """{marker name: markdown} of the README's benchmark blocks, from the reports under out."""
    from minseq.bench.report import machine_line, markdown_table
    result = json.loads((out / "results.json").read_text())
    # the reports' own "# ..." headings stay in their files: the README has its own
    gemm = (out / "gemm.md").read_text().split("\n\n", 1)[1]
    targets = (out / "targets.md").read_text().split("\n\n", 1)[1]
    return {"machine": f"Taken on: {machine_line(result)}",
            "results": markdown_table(result, "cpu"),
            "targets": targets.rstrip(),
            "scaling": table_lines((out / "scaling" / "scaling.md").read_text()),
            "gemm": gemm.rstrip()}


def splice(text, blocks):
    """``text`` with the body between each ``<!-- bench:NAME -->`` / ``<!-- /bench:NAME -->``
    pair replaced by blocks[NAME]; a missing pair is a ValueError naming it."""
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(\n<!-- /bench:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"no <!-- bench:{name} --> ... <!-- /bench:{name} --> block")
        text = pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(COMMITTED),
                   help="folder for every report (default: the committed benchmarks/results)")
    p.add_argument("--readme", default=None,
                   help="README to write the tables into (default: README.md when --out is "
                        "benchmarks/results, else none)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and 2 samples everywhere: checks the whole chain")
    args = p.parse_args(argv)
    out = Path(args.out)
    readme = args.readme or (HERE.parent / "README.md" if out.resolve() == COMMITTED else None)
    quick = ["--quick"] if args.quick else []
    run("run.py", "--threads", "1", "--out", str(out), *quick)
    run("scaling.py", "--out", str(out / "scaling"), *quick)
    run("gemm.py", "--out", str(out), *quick)
    from minseq.bench.targets import targets_markdown
    from minseq.files import atomic_write
    runs = {1: json.loads((out / "results.json").read_text())}
    two = out / "scaling" / "threads-2" / "results.json"
    if two.exists():
        runs[2] = json.loads(two.read_text())
    with atomic_write(out / "targets.md", "w") as f:
        f.write("# Against the targets (forward+backward, fast / PyTorch)\n\n"
                + targets_markdown(runs))
    print("\n" + (out / "targets.md").read_text())
    if readme:
        text = splice(Path(readme).read_text(encoding="utf-8"), sections(out))
        with atomic_write(readme, "w") as f:
            f.write(text)
        print(f"wrote the tables into {readme}: revise the prose around them by hand")
    return 0


if __name__ == "__main__":
    from minseq.bench.kernel import run_natively
    run_natively(sys.argv, "benchmarks/publish.py")
    raise SystemExit(main())
