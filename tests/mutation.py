"""Mutation testing (``make mutation``): mutmut plants one small bug at a time in the code the
tests must guard, runs the tests that reach it, and reports the mutants no test kills.

    python tests/mutation.py                 # every group, one after another
    python tests/mutation.py data strict     # some groups

Each group is a part of the package and the test files that speak for it; a group runs in a
scratch copy of the repository (``out/mutation/GROUP``), so the working tree is never touched,
at the lowest CPU priority, with one test process at a time. Its results are written to
``out/mutation/GROUP.json``: {mutant: status}, and the survivors' diffs beside it. It is not
part of ``make test`` or CI: a run takes from minutes to hours. What a run found, and why each
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
    "tasks": (["minseq/tasks/*.py"], ["tests/tasks/test_*.py", "tests/commands/test_cli_runs.py",
                                      "tests/commands/test_cli_settings.py"]),
}


def scratch_copy(group, mutate, tests):
    """A copy of the tracked files with a [mutmut] section for ``group`` in its setup.cfg."""
    where = OUT / group
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
                "pytest_add_cli_args = -p no:cacheprovider -q\n"
                "pytest_add_cli_args_test_selection =\n" +
                "".join(f"    {t}\n" for t in selected))
    return where


def run(group):
    """Run mutmut on ``group``; returns {mutant: status}."""
    mutate, tests = GROUPS[group]
    where = scratch_copy(group, mutate, tests)
    env = dict(os.environ, MPLBACKEND="Agg")
    mutmut = [sys.executable, "-c", "from mutmut.__main__ import cli; cli()"]
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / f"{group}.log", "w") as log:       # mutmut's progress, redrawn in place
        subprocess.run(["nice", "-n", "19", *mutmut, "run", "--max-children", "1"], cwd=where,
                       env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    listing = subprocess.run([*mutmut, "results", "--all", "true"], cwd=where, env=env,
                             capture_output=True, text=True, check=True).stdout
    status = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    (OUT / f"{group}.json").write_text(json.dumps(status, indent=1) + "\n")
    with open(OUT / f"{group}-survivors.diff", "w") as f:
        for name, state in status.items():
            if state != "killed":
                f.write(subprocess.run([*mutmut, "show", name], cwd=where, env=env,
                                       capture_output=True, text=True).stdout + "\n")
    killed = sum(s == "killed" for s in status.values())
    print(f"{group}: {killed} of {len(status)} mutants killed")
    return status


def main(argv):
    unknown = [g for g in argv if g not in GROUPS]
    if unknown:
        sys.exit(f"mutation: unknown group(s) {unknown}; the groups are {list(GROUPS)}")
    for group in argv or GROUPS:
        run(group)


if __name__ == "__main__":
    main(sys.argv[1:])
