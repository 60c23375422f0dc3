"""The README's package-layout table matches the tree: every module and package of minseq is
named in it, and everything it names exists. Its command lines run as written from the
checkout's folder after ``make``, without an activated environment."""

import configparser
import re

from paths import ROOT



def layout_rows():
    """The first cell of each row of the table under "## Package layout", as lists of paths:
    the row's first path is full, the others are relative to its folder."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## Package layout", 1)[1]
    for line in text.splitlines():
        if line.startswith("| `"):
            names = re.findall(r"`([^`]+)`", line.split("|")[1])
            folder = names[0] if names[0].endswith("/") else names[0].rsplit("/", 1)[0] + "/"
            yield [names[0]] + [folder + n for n in names[1:]]


def named():
    return {p.rstrip("/") for row in layout_rows() for p in row}


def test_everything_the_table_names_exists():
    missing = [p for p in named() if not (ROOT / p).exists()]
    assert not missing


def test_every_module_and_package_is_in_the_table():
    """Top-level modules and packages of minseq, and each module of minseq/nn (the table
    lists the layers one by one)."""
    package = ROOT / "minseq"
    entries = [p for p in package.iterdir() if p.suffix == ".py" and p.name != "__init__.py"
               or p.is_dir() and (p / "__init__.py").exists() and p.name != "nn"]
    entries += [p for p in (package / "nn").glob("*.py") if p.name != "__init__.py"]
    absent = [str(p.relative_to(ROOT)) for p in entries
              if str(p.relative_to(ROOT)) not in named()]
    assert not absent


def command_lines():
    """The README's shell lines (fenced blocks other than Python's, and indented blocks) and
    its inline code spans with arguments (`minseq train` alone names a command)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    fenced = re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
    lines = [line for lang, body in fenced if lang != "python" for line in body.splitlines()]
    outside = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    lines += [line[4:] for line in outside.splitlines() if line.startswith("    ")]
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", outside)]
    return [line.strip() for line in lines] + [span for span in spans
                                               if len(span.split()) > 2 or " -" in span]


def test_command_lines_name_the_environment_s_programs():
    """``python -m minseq`` fails unless .venv is activated: each command line that runs minseq
    or Python says ``.venv/bin/minseq`` or ``.venv/bin/python``."""
    programs = ("python", "python3", "minseq")
    bare = [line for line in command_lines()
            if line.split()[0] in programs or re.search(r"(?<![/\w])python3? -m minseq", line)]
    assert not bare
    assert any(line.startswith(".venv/bin/minseq ") for line in command_lines())


def test_the_minseq_program_is_the_one_setup_installs():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"].split("\n")
    assert "minseq = minseq.cli:main" in [s.strip() for s in scripts]
