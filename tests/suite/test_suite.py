"""The test suite itself: its folders mirror the package, every test on the xp fixture runs on
"strict", and ``make parity`` fails on a skipped parity test."""

import json
import os
import shutil
import subprocess
import sys

from paths import ROOT

TESTS = ROOT / "tests"
PACKAGE = ROOT / "minseq"
# Folders of tests/ that mirror no package of minseq: the lessons (minseq/lesson.py, its runner
# and lessons/), the tools (tools/), the suites that cut across the package (bad input, syncs,
# numerics, the suite's own rules, the README) and what tests in several folders share.
OTHER_FOLDERS = {"lessons", "tools", "suite", "support"}
# A package whose tests sit in another folder: the lesson frame's helpers, with the lessons.
TESTED_IN = {"lessons_support": "lessons"}


def test_the_tests_mirror_the_package():
    """A test file directly in tests/ is test_<module>.py for a top-level module of minseq;
    each package of minseq has its folder of tests, tests/<package>/; every other folder is
    one of OTHER_FOLDERS; and no two test files share a name (pytest imports them by it)."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    loose = sorted(p.name for p in TESTS.glob("test_*.py") if p.stem[len("test_"):] not in modules)
    assert not loose, f"in tests/ but testing no top-level module of minseq: {loose}"
    folders = {TESTED_IN.get(name, name) for name in packages}
    untested = sorted(name for name in packages
                      if not any((TESTS / TESTED_IN.get(name, name)).glob("test_*.py")))
    assert not untested, f"packages of minseq without their folder of tests: {untested}"
    present = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name[0] not in "._"}
    strays = sorted(present - folders - OTHER_FOLDERS)
    assert not strays, f"folders of tests/ that mirror no package of minseq: {strays}"
    names = [p.name for p in TESTS.rglob("test_*.py")]
    shared = sorted({n for n in names if names.count(n) > 1})
    assert not shared, f"test files of one name in two folders: {shared}"

# Collects the suite in a child pytest and prints, for every test that uses the xp fixture,
# its node id without parameters and the backend it runs on (None when no xp parameter is set,
# i.e. the module replaced the fixture by one of its own).
_COLLECT = """
import json, sys
import pytest

class Recorder:
    rows = []

    def pytest_collection_finish(self, session):
        for item in session.items:
            if "xp" in getattr(item, "fixturenames", ()):
                params = getattr(getattr(item, "callspec", None), "params", {})
                self.rows.append((item.nodeid.split("[")[0], params.get("xp")))

recorder = Recorder()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[1]],
                   plugins=[recorder])
print("ROWS " + json.dumps(recorder.rows))
sys.exit(code)
"""


def backends_per_test(chosen=None):
    """{test: backends of its xp parameter}, collected with MINSEQ_BACKEND=``chosen`` (unset
    for None)."""
    env = {k: v for k, v in os.environ.items() if k != "MINSEQ_BACKEND"}
    if chosen:
        env["MINSEQ_BACKEND"] = chosen
    proc = subprocess.run([sys.executable, "-c", _COLLECT, str(TESTS)], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = json.loads(proc.stdout.rsplit("ROWS ", 1)[1])
    backends = {}
    for test, backend in rows:
        backends.setdefault(test, set()).add(backend)
    return backends


def test_every_test_on_the_xp_fixture_runs_on_strict():
    """No module overrides xp or parametrises it without "strict", so no layer is covered on
    NumPy alone."""
    backends = backends_per_test()
    modules = {test.split("::")[0] for test in backends}
    assert len(modules) >= 20, f"only {len(modules)} modules use the xp fixture: {modules}"
    missing = sorted(test for test, names in backends.items() if "strict" not in names)
    assert not missing, (f"{len(missing)} tests using xp never run on strict, e.g. "
                         f"{missing[:10]}")


def test_minseq_backend_chooses_the_backend_of_every_xp_test():
    """make test-gpu sets MINSEQ_BACKEND=cupy: every backend-parametrised test then runs on
    CuPy, and only on it (strict stands in here)."""
    backends = backends_per_test("strict")
    assert set().union(*backends.values()) == {"strict"}


def _run_parity(tmp_path, parity_env):
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_skipping.py").write_text(
        "import pytest\n\n\n@pytest.mark.parity\ndef test_skips():\n    pytest.skip('no way')\n")
    env = {k: v for k, v in os.environ.items() if k != "MINSEQ_PARITY"}
    if parity_env:
        env["MINSEQ_PARITY"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-m", "parity", str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)


def test_a_skipped_parity_test_fails_under_minseq_parity(tmp_path):
    proc = _run_parity(tmp_path, parity_env=True)
    assert proc.returncode == 1, proc.stdout
    assert "parity test skipped under MINSEQ_PARITY: Skipped: no way" in proc.stdout


def test_a_skipped_parity_test_only_skips_in_make_test(tmp_path):
    proc = _run_parity(tmp_path, parity_env=False)
    assert proc.returncode == 0 and "1 skipped" in proc.stdout, proc.stdout


def test_hypothesis_draws_the_same_examples_every_run_and_keeps_none():
    """make test and CI (with CI set or not) replay fixed examples and read no stored failure:
    a random draw never turns a run red by chance (make explore draws new ones)."""
    from hypothesis import settings
    assert settings.default.derandomize and settings.default.database is None
    explore = settings.get_profile("explore")
    assert not explore.derandomize and explore.database is not None
