"""The curriculum covers the formula catalogue: every ID has a lesson, and the index is honest.

The index is ``lessons/README.md`` (one row per catalogue ID: formula, lesson file, minseq
function). The catalogue is ``FORMULAS.md`` in the shared folder beside the repository; where it
is absent, the IDs below (its contents when this test was written) stand in for it.
"""

import ast
import importlib.util
import re

import pytest

from minseq.lesson_runner import lesson_files

from paths import ROOT

LESSONS_DIR = ROOT / "lessons"
CATALOGUE = ROOT.parent / "shared" / "FORMULAS.md"
KNOWN_IDS = ([f"A{i}" for i in range(1, 6)] + [f"B{i}" for i in range(1, 8)]
             + [f"C{i}" for i in range(1, 8)] + [f"D{i}" for i in range(1, 11)]
             + [f"E{i}" for i in range(1, 10)] + [f"F{i}" for i in range(1, 5)] + ["G1"]
             + [f"H{i}" for i in range(1, 5)])
ID = re.compile(r"\b([A-H](?:10|[1-9]))\b")


def catalogue_ids():
    if not CATALOGUE.exists():
        return KNOWN_IDS
    return re.findall(r"^\| ([A-H]\d+) \|", CATALOGUE.read_text(encoding="utf-8"), re.M)


def index_rows():
    """{ID: [lesson file, ...]} from the table in lessons/README.md."""
    rows = {}
    for line in (LESSONS_DIR / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| ([A-H]\d+) \|(.*)\|(.*)\|(.*)\|$", line)
        if m:
            rows.setdefault(m.group(1), []).extend(re.findall(r"`(\d\d_\w+\.py)`", m.group(3)))
    return rows


def declared_ids(path):
    """The ``ids=[...]`` a lesson passes to Lesson(...), and the IDs its step titles name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ids, named = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if fname == "Lesson":
            for kw in node.keywords:
                if kw.arg == "ids":
                    ids = [ast.literal_eval(e) for e in kw.value.elts]
        if fname == "step" and node.args and isinstance(node.args[0], ast.Constant):
            named += ID.findall(node.args[0].value.split(":")[0])
    return ids, named


LESSONS = {p.name: p for p in lesson_files(LESSONS_DIR)}


def test_catalogue_matches_the_known_ids():
    assert catalogue_ids() == KNOWN_IDS


@pytest.mark.parametrize("cid", KNOWN_IDS)
def test_every_catalogue_id_has_a_lesson(cid):
    rows = index_rows()
    assert cid in rows, f"{cid} has no row in lessons/README.md"
    assert rows[cid], f"{cid}'s row names no lesson file"
    for name in rows[cid]:
        assert name in LESSONS, f"{cid}: lesson {name} does not exist"
        assert cid in declared_ids(LESSONS[name])[0], f"{name} does not declare {cid} in ids="


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_lesson_ids_are_indexed(name):
    ids, named = declared_ids(LESSONS[name])
    rows = index_rows()
    for cid in ids:
        assert name in rows.get(cid, []), f"{name} declares {cid} but the index does not list it"
    for cid in named:
        assert cid in rows, f"a step of {name} names {cid}, which is not in the index"
        assert cid in ids, f"a step of {name} names {cid} but the lesson does not declare it"


#: Catalogue entries whose document formula is wrong or non-standard: the lesson that declares
#: the ID must show the literal formula beside the standard one (``L.erratum(ID, ...)``).
ERRATA = ["A4", "B3", "B4", "D4", "D5", "D6", "D7", "D8", "E2", "E3", "E4", "E5", "E9", "F3",
          "H4"]


def lesson_calls(path):
    """(function name, call node) for every call in a lesson."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            yield (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")), node


@pytest.mark.parametrize("cid", ERRATA)
def test_every_erratum_is_shown(cid):
    shown = [name for name, path in LESSONS.items()
             if any(f == "erratum" and n.args and isinstance(n.args[0], ast.Constant)
                    and n.args[0].value == cid for f, n in lesson_calls(path))]
    assert shown, f"no lesson shows erratum {cid} with L.erratum"


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_lesson_has_the_common_shape(name):
    """Goals, a figure, a summary and exercises, in every lesson (the graded ones:
    tests/lessons/test_exercises.py)."""
    calls = list(lesson_calls(LESSONS[name]))
    kw = {k.arg: k.value for f, n in calls if f in ("Lesson", "finish") for k in n.keywords}
    assert isinstance(kw.get("goals"), ast.List) and kw["goals"].elts, f"{name}: no goals"
    assert "summary" in kw, f"{name}: no summary"
    assert "exercises" in kw, f"{name}: no exercises"
    assert any(f == "savefig" for f, _ in calls), f"{name}: saves no figure"
    assert any(f == "step" for f, _ in calls), f"{name}: has no steps"


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_every_erratum_names_its_document_and_section(name):
    """``L.erratum(..., source="document NNN section X")``: the reader can find the formula as
    printed."""
    for f, node in lesson_calls(LESSONS[name]):
        if f != "erratum":
            continue
        source = {k.arg: k.value for k in node.keywords}.get("source")
        assert isinstance(source, ast.Constant), f"{name}, line {node.lineno}: no source="
        assert re.match(r"document \d{3} sections? \d", source.value), \
            f"{name}, line {node.lineno}: source {source.value!r} names no document and section"


def worked_examples():
    """(document, section, lesson file) for each row of the table under "The documents' worked
    examples" in lessons/README.md."""
    text = (LESSONS_DIR / "README.md").read_text(encoding="utf-8")
    table = text.split("## The documents' worked examples", 1)[1]
    return re.findall(r"^\| (\d{3}) \| ([\d.]+) \|.*?\| `(\d\d_\w+\.py)` \|", table, re.M)


def step_titles(path):
    return [node.args[0].value for f, node in lesson_calls(path)
            if f == "step" and node.args and isinstance(node.args[0], ast.Constant)]


def test_the_worked_examples_are_listed():
    listed = {(doc, section) for doc, section, _ in worked_examples()}
    # the four the lessons issue names, and the rest of the sweep of the five documents
    assert {("004", "4.1"), ("004", "4.2"), ("002", "4.3"), ("003", "4.4")} <= listed
    assert len(listed) == len(worked_examples()) >= 12


@pytest.mark.parametrize("doc, section, lesson", worked_examples())
def test_each_worked_example_has_its_step(doc, section, lesson):
    """The lesson that runs a document's example prints its marker: a step title naming
    "document NNN, section X" (L.step prints the title)."""
    assert lesson in LESSONS, f"document {doc} section {section}: no lesson {lesson}"
    marker = re.compile(rf"document {doc}, section {re.escape(section)}(?!\.?\d)", re.I)
    titles = step_titles(LESSONS[lesson])
    assert any(marker.search(t) for t in titles), \
        f"{lesson} has no step titled 'document {doc}, section {section}'"


# -- one convention across lessons --------------------------------------------------------------
#: Lessons whose behaviour data comes from the one synthetic log of helpers.behaviour_log (10 draws
#: a long stationary series of its own and says why; 09, 11, 14, 15 and 17 read no behaviour log).
LOG_LESSONS = ["01_dense_backprop.py", "02_rnn.py", "03_lstm.py", "04_gru.py", "05_attention.py",
               "06_multihead_positional.py", "07_transformer.py", "08_data.py",
               "12_next_behaviour.py", "13_next_item.py", "16_churn.py"]
HELPERS = LESSONS_DIR / "helpers.py"


def load_helpers():
    spec = importlib.util.spec_from_file_location("lesson_helpers", HELPERS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def imported_from(path, module):
    """The names a file imports with ``from <module> import ...``."""
    return {alias.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module == module
            for alias in node.names}


def test_the_lessons_vocabulary_is_the_package_s():
    from minseq.data import BEHAVIOURS
    assert load_helpers().EVENTS is BEHAVIOURS


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_no_lesson_defines_its_own_event_list(name):
    """Behaviour names come from helpers.EVENTS (or a log's behaviour_names): no lesson binds a
    name to a list of them, nor takes minseq.data's BEHAVIOURS past the helpers."""
    path = LESSONS[name]
    events = set(load_helpers().EVENTS)
    assert "BEHAVIOURS" not in imported_from(path, "minseq.data") | imported_from(
        path, "minseq.data.events"), f"{name} imports BEHAVIOURS: use helpers.EVENTS"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value,
                                                                        (ast.List, ast.Tuple)):
            words = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
            assert len(events.intersection(words)) < 2, \
                f"{name} line {node.lineno} defines its own list of behaviours"


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_lessons_take_their_log_from_the_helper(name):
    """One generate call, in helpers.behaviour_log; the lessons that use a behaviour log call
    that helper."""
    calls = [f for f, _ in lesson_calls(LESSONS[name])]
    assert "generate" not in calls and "generate" not in imported_from(
        LESSONS[name], "minseq.data"), f"{name} generates a log of its own"
    if name in LOG_LESSONS:
        assert "behaviour_log" in imported_from(LESSONS[name], "helpers")
        assert "behaviour_log" in calls, f"{name} does not take the lessons' behaviour log"


def test_the_helpers_generate_the_log_once():
    assert [f for f, _ in lesson_calls(HELPERS)].count("generate") == 1


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_every_sigmoid_is_the_helpers_sigma(name):
    """A lesson's hand-written logistic function is helpers.sigma, never its own 1 / (1 + e^-z)."""
    text = LESSONS[name].read_text(encoding="utf-8")
    assert not re.search(r"1\s*/\s*\(\s*1\s*\+\s*\w+\.exp\(", text), \
        f"{name} writes its own sigmoid: use helpers.sigma"


# -- the backward with numbers, and the graph it runs on -----------------------------------------
#: Lessons that teach a layer (or a model made of layers)
LAYER_LESSONS = ["01_dense_backprop.py", "02_rnn.py", "03_lstm.py", "04_gru.py",
                 "05_attention.py", "06_multihead_positional.py", "07_transformer.py",
                 "11_graph.py", "12_next_behaviour.py", "13_next_item.py"]


@pytest.mark.parametrize("name", LAYER_LESSONS)
def test_every_layer_lesson_works_a_backward_element_and_draws_its_graph(name):
    """One gradient entry worked through with the run's numbers and checked against the layer
    (minseq.lessons_support.worked), and the computational graph drawn from the lesson's own
    operations (graph_diagram.draw of its GRAPH) and saved as a figure."""
    calls = list(lesson_calls(LESSONS[name]))
    assert any(f in ("work_element", "work_weight_gradient") for f, _ in calls), \
        f"{name} works no backward element with numbers"
    drawn = [n for f, n in calls if f == "draw" and isinstance(n.func, ast.Attribute)
             and getattr(n.func.value, "id", "") == "graph_diagram"]
    assert drawn, f"{name} draws no computational graph"
    assert all(isinstance(n.args[0], ast.Name) and n.args[0].id == "GRAPH" for n in drawn), \
        f"{name}: the graph is drawn from something other than the lesson's GRAPH"


# -- the notebooks' formulas -------------------------------------------------------------------
# words that are never a symbol: in a formula they belong in \text{...} (else they typeset as
# italic maths, "the code" as t*h*e c*o*d*e), or out of the formula, in the prose
PROSE_WORDS = {"the", "of", "in", "and", "or", "from", "by", "for", "each", "alike", "with",
               "is", "are", "to", "as", "at", "on", "not", "it", "its", "this", "that", "then",
               "when", "while", "over", "per", "every", "only", "same", "so", "if", "into"}
TEXT_GROUP = re.compile(r"\\(?:text|mathrm|operatorname)\{[^{}]*\}")


def markdown_formulas(path):
    """The $$ ... $$ and $ ... $ formulas of a lesson's ``# %% [markdown]`` cells."""
    formulas, markdown = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            markdown = line.startswith("# %% [markdown]")
        elif markdown and line.startswith("#"):
            formulas += [a or b for a, b in re.findall(
                r"\$\$(.+?)\$\$|(?<!\$)\$([^$]+?)\$(?!\$)", line[1:])]
    return formulas


@pytest.mark.parametrize("path", lesson_files(LESSONS_DIR), ids=lambda p: p.stem)
def test_markdown_formulas_parse_and_keep_their_words_upright(path):
    from matplotlib.mathtext import MathTextParser
    parser = MathTextParser("agg")
    for formula in markdown_formulas(path):
        parser.parse(f"${formula.strip()}$", 72)          # raises on what mathtext cannot read
        bare = re.sub(r"\\[A-Za-z]+", " ", TEXT_GROUP.sub(" ", formula))
        words = PROSE_WORDS.intersection(re.findall(r"[A-Za-z]+", bare))
        assert not words, f"{path.name}: {sorted(words)} typeset as maths in $${formula}$$"
