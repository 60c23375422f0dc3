"""The Python minimum of setup.cfg is true: every file of the package, the lessons, the
benchmarks and the tests parses with that version's grammar.

3.10 is the minimum: the code uses ``zip(..., strict=True)`` (new in 3.10), which lets a loop
over the sub-modules of a layer and its clone fail loudly when they differ in number. A grammar
check at the minimum catches what a newer interpreter would accept silently (``match`` is 3.10,
``except*`` 3.11, nested quotes in f-strings 3.12).
"""

import ast
import configparser
import re

import pytest

from paths import ROOT

FOLDERS = ("minseq", "lessons", "benchmarks", "tests")


def minimum_version():
    """(3, minor) from setup.cfg's ``python_requires = >=3.minor``."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    required = config["options"]["python_requires"]
    found = re.fullmatch(r">=\s*3\.(\d+)", required.strip())
    assert found, f"setup.cfg: python_requires {required!r} is not of the form >=3.N"
    return 3, int(found.group(1))


def python_files():
    return sorted(p.relative_to(ROOT) for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def _uses_zip_strict(rel):
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "zip"
               and any(k.arg == "strict" for k in n.keywords) for n in ast.walk(tree))


def test_the_minimum_is_at_least_what_the_library_calls_need():
    """``zip(strict=True)`` is 3.10's: a file that calls it needs a minimum of 3.10 or later."""
    users = [str(rel) for rel in python_files() if _uses_zip_strict(rel)]
    assert users, "no file calls zip(strict=...): this check has nothing to hold"
    assert minimum_version() >= (3, 10), f"zip(strict=...) needs Python 3.10: {users[:3]}"


@pytest.mark.parametrize("rel", python_files(), ids=str)
def test_every_file_parses_at_the_minimum_version(rel):
    source = (ROOT / rel).read_text(encoding="utf-8")
    ast.parse(source, filename=str(rel), feature_version=minimum_version())


def test_the_check_refuses_grammar_newer_than_the_minimum():
    with pytest.raises(SyntaxError):
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n", feature_version=(3, 10))
