"""Mutation testing (``make mutation``): mutmut plants one small bug at a time in the code the
tests must guard, runs the tests that reach it, and reports the mutants no test kills.

    python tests/mutation.py                 # every group, one after another
    python tests/mutation.py data strict     # some groups
    python tests/mutation.py --again data    # the survivors of data's last run, once more
    python tests/mutation.py --children 2 tasks   # two test processes at a time

Each group is a part of the package and the test files that speak for it; a group runs in a
scratch copy of the repository (``out/mutation/GROUP``), so the working tree is never touched,
at the lowest CPU priority, with one test process at a time (``--children N``: N at a time, for
a machine with cores to spare; the tests write only to their own temporary folders).

A group runs in two passes. The first runs each mutant against quick settings: 5 hypothesis
draws per test, not the suite's 25, and (but for the strict group, which is about the strict
backend) the NumPy backend only. The mutants it leaves alive run again, in a second scratch
copy (``out/mutation/GROUP-full``), under the suite's own settings, so a mutant is only written
off by what ``make test`` itself runs. The results are written to ``out/mutation/GROUP.json``:
{mutant: status}, and the survivors' diffs beside it. It is not part of ``make test`` or CI:
a run takes from minutes to hours. What a run found, and why each
remaining survivor is equivalent, is kept in tests/MUTATION.md.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "mutation"

#: group -> (the files mutated, the test files run against them)
GROUPS = {
    "interop": (["minseq/interop.py"], ["tests/test_interop.py"]),
    "strict": (["minseq/strict.py"], ["tests/test_strict.py", "tests/backend/test_backend.py",
                                      "tests/suite/test_syncs.py"]),
    "data": (["minseq/data/*.py"], ["tests/data/test_*.py",
                                    "tests/commands/test_data_command.py"]),
    "fast": (["minseq/fast/*.py"], ["tests/fast/test_*.py"]),
    # The tests that run `python -m minseq` in a child process are left out: mutmut's coverage
    # pass cannot follow a child (its hook looks for its settings in the child's folder).
    "tasks": (["minseq/tasks/*.py"], ["tests/tasks/test_*.py", "tests/commands/test_cli.py"]),
}


#: the first pass's pytest options and environment (the second pass's are the suite's own)
QUICK_ARGS = "--hypothesis-profile mutation"
QUICK_ENV = {"MINSEQ_BACKEND": "numpy"}
MUTMUT = [sys.executable, "-c", "from mutmut.__main__ import cli; cli()"]


def scratch_copy(where, mutate, tests, quick):
    """A copy of the tracked files at ``where`` with a [mutmut] section in its setup.cfg."""
    shutil.rmtree(where, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, where / name)
    selected = sorted(str(p.relative_to(where)) for pattern in tests for p in where.glob(pattern))
    # mutmut copies the package and tests/; the tests also read benchmarks/, lessons/, README...
    beside = sorted({name.split("/")[0] for name in files} - {"minseq", "tests", "setup.cfg"})
    with open(where / "setup.cfg", "a") as f:
        f.write("\n[mutmut]\nsource_paths = minseq\n"
                "also_copy =\n" + "".join(f"    {b}\n" for b in beside) +
                "only_mutate =\n" + "".join(f"    {m}\n" for m in mutate) +
                f"pytest_add_cli_args = -p no:cacheprovider -q {QUICK_ARGS if quick else ''}\n"
                "pytest_add_cli_args_test_selection =\n" +
                "".join(f"    {t}\n" for t in selected))


def mutation_pass(group, name, env, children, only=()):
    """One mutmut run in ``out/mutation/name`` (every mutant, or those in ``only``), with
    ``children`` test processes at a time."""
    mutate, tests = GROUPS[group]
    where = OUT / name
    scratch_copy(where, mutate, tests, quick=name == group)
    with open(OUT / f"{name}.log", "w") as log:       # mutmut's progress, redrawn in place
        done = subprocess.run(["nice", "-n", "19", *MUTMUT, "run", "--max-children",
                               str(children), *only], cwd=where, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    if done.returncode:                 # e.g. a test failing before any mutant was planted
        sys.exit(f"mutation: mutmut stopped on {name} (exit {done.returncode}); its output: "
                 f"out/mutation/{name}.log")
    listing = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=where, env=env,
                             capture_output=True, text=True, check=True).stdout
    status = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    return where, status if not only else {m: status.get(m, "not run") for m in only}


def run(group, again=False, children=1):
    """Run mutmut on ``group`` in two passes; returns {mutant: status}.

    ``again``: skip the first pass and run, under the suite's settings, the mutants that the
    group's last report left alive (after tests were written to kill them)."""
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLBACKEND="Agg")
    where = None
    if again:
        status = json.loads((OUT / f"{group}.json").read_text())
    else:
        where, status = mutation_pass(group, group, dict(env, **({} if group == "strict"
                                                                else QUICK_ENV)), children)
    # a first pass's "no tests" stays so; a new test may reach it on a second look
    alive = sorted(m for m, state in status.items()
                   if state != "killed" and (again or state != "no tests"))
    if alive:
        where, second = mutation_pass(group, f"{group}-full", env, children, alive)
        status.update(second)
    (OUT / f"{group}.json").write_text(json.dumps(status, indent=1) + "\n")
    with open(OUT / f"{group}-survivors.diff", "w") as f:
        for name, state in status.items():
            if state != "killed":
                f.write(subprocess.run([*MUTMUT, "show", name], cwd=where, env=env,
                                       capture_output=True, text=True).stdout + "\n")
    killed = sum(s == "killed" for s in status.values())
    print(f"{group}: {killed} of {len(status)} mutants killed")
    return status


def children_of(argv):
    """The N of ``--children N`` (default 1) and the arguments without it."""
    if "--children" not in argv:
        return 1, argv
    at = argv.index("--children")
    value = argv[at + 1] if at + 1 < len(argv) else ""
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"mutation: --children needs a whole number of test processes >= 1, "
                 f"got {value!r}")
    return int(value), argv[:at] + argv[at + 2:]


def main(argv):
    children, argv = children_of(argv)
    again = "--again" in argv
    groups = [a for a in argv if a != "--again"]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        sys.exit(f"mutation: unknown group(s) {unknown}; the groups are {list(GROUPS)}")
    missing = [g for g in groups or GROUPS if again and not (OUT / f"{g}.json").exists()]
    if missing:
        sys.exit(f"mutation: --again needs a report of {missing} (out/mutation/GROUP.json): "
                 "run the group first")
    for group in groups or GROUPS:
        run(group, again, children)


if __name__ == "__main__":
    main(sys.argv[1:])
