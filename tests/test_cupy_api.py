"""minseq's compute code against CuPy's own package, the referee (no GPU needed).

CuPy's wheel imports without a device, so everything minseq's compute code names is looked up
in the installed ``cupy``: every attribute reached through ``xp`` (``xp.add.at`` included),
every keyword argument of those calls, every method called on a random generator, and the
lists the strict backend enforces (minseq.cupy_api). ``make cupy-api`` installs cupy and sets
MINSEQ_CUPY_API=1, under which a missing cupy fails; plain ``make test`` skips these tests.
"""

import ast
import inspect
import os
import pathlib
import re
import zlib

import pytest

import minseq
from minseq import cupy_api

PACKAGE = pathlib.Path(minseq.__file__).parent
#: the backend switch itself and the strict stand-in are not compute code
NOT_COMPUTE = {"backend", "strict.py"}


@pytest.fixture(scope="module")
def cupy():
    try:
        import cupy as module
    except ImportError as exc:
        if os.environ.get("MINSEQ_CUPY_API"):
            pytest.fail(f"MINSEQ_CUPY_API is set but cupy does not import: {exc}")
        pytest.skip("cupy is not installed (make cupy-api installs it)")
    return module


def compute_files():
    """Every module of the package but the two above (host-side modules name no ``xp``)."""
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if p.relative_to(PACKAGE).parts[0] not in NOT_COMPUTE)


def _chain(node):
    """["add", "at"] for the expression xp.add.at, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return names[::-1] if isinstance(node, ast.Name) and node.id == "xp" and names else None


def uses():
    """(where, kind, names, keywords): kind "xp" for xp.a.b (keywords of a call to it, or
    None), "generator" for rng.generator.method(...)."""
    found = []
    for path in compute_files():
        tree = ast.parse(path.read_text())
        inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        called = {id(n.func): [k.arg for k in n.keywords if k.arg]
                  for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"
            if not isinstance(node, ast.Attribute) or id(node) in inner:
                continue
            chain = _chain(node)
            if chain and chain != ["name"]:                  # xp.name is minseq's own
                found.append((where, "xp", chain, called.get(id(node))))
            elif isinstance(node.value, ast.Attribute) and node.value.attr == "generator":
                found.append((where, "generator", [node.attr], called.get(id(node))))
    return found


def _keywords_missing(obj, keywords, cupy):
    if isinstance(obj, cupy.ufunc):
        return [k for k in keywords if k not in cupy_api.UFUNC_KEYWORDS]
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return [k for k in keywords if not re.search(rf"\b{k}\b", obj.__doc__ or "")]
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return []
    return [k for k in keywords if k not in params]


def test_the_scan_sees_the_compute_code():
    files = {p.relative_to(PACKAGE).as_posix() for p in compute_files()}
    assert {"nn/dropout.py", "fast/attention.py", "models/sasrec.py", "optim.py"} <= files
    kinds = {kind for _, kind, _, _ in uses()}
    assert kinds == {"xp", "generator"}


def test_every_name_and_keyword_exists_in_cupy(cupy):
    problems = []
    for where, kind, names, keywords in uses():
        obj = cupy.random.Generator if kind == "generator" else cupy
        for i, name in enumerate(names):
            if not hasattr(obj, name):
                problems.append(f"{where}: {'.'.join(['xp'] + names[:i + 1])} is not in cupy "
                                f"{cupy.__version__}" if kind == "xp" else
                                f"{where}: cupy.random.Generator has no {name}")
                break
            obj = getattr(obj, name)
        else:
            missing = _keywords_missing(obj, keywords or [], cupy)
            if missing:
                problems.append(f"{where}: {'.'.join(names)} takes no keyword {missing} on CuPy")
    assert not problems, "\n".join(problems)


def test_the_generator_methods_strict_allows_are_cupys(cupy):
    public = {n for n in dir(cupy.random.Generator) if not n.startswith("_")
              and callable(getattr(cupy.random.Generator, n))}
    assert set(cupy_api.GENERATOR_METHODS) == public


def test_the_names_strict_denies_are_missing_from_cupy(cupy):
    missing = [n for n, why in cupy_api.DENIED.items() if why.startswith("CuPy has no")
               or why.startswith("CuPy removed")]
    assert missing and not [n for n in missing if hasattr(cupy, n)]


def _compiled_strings(path):
    """The bytes of a compiled module and of every zlib stream in it (Cython may compress its
    string constants)."""
    data = path.read_bytes()
    chunks = [data]
    for m in re.finditer(rb"\x78[\x01\x5e\x9c\xda]", data):
        try:
            chunks.append(zlib.decompressobj().decompress(data[m.start():]))
        except zlib.error:
            continue
    return b"\n".join(chunks)


def test_the_ufunc_at_dtypes_strict_allows_are_cupys(cupy):
    """CuPy states them in its TypeError ("cupy.add.at only supports int32, ... as data type"),
    compiled into its indexing routines: read them from there. minseq allows a subset: the gpu
    extra admits CuPy 12 and 13 too, whose add.at refuses int64 (CuPy 14.2 takes it)."""
    text = b"".join(_compiled_strings(p) for p in pathlib.Path(cupy.__file__).parent.glob(
        "_core/_routines_indexing*"))
    for name, dtypes in cupy_api.UFUNC_AT_DTYPES.items():
        said = re.search(rb"cupy\." + name.encode() + rb"\.at only supports ([\w, ]+?),? as data",
                         text)
        assert said, f"cupy.{name}.at states no dtypes in cupy {cupy.__version__}"
        stated = {d.strip().decode() for d in said.group(1).split(b",")}
        assert set(dtypes) <= stated, (name, sorted(set(dtypes) - stated))


def test_the_device_generator_minseq_makes_is_cupys(cupy):
    """backend.device_rng builds default_rng(Philox4x3210(seed)) on CuPy (cheap to set up)."""
    assert callable(cupy.random.Philox4x3210) and callable(cupy.random.default_rng)
    assert issubclass(cupy.random.Philox4x3210, cupy.random.BitGenerator)


def nccl_uses():
    """What NCCLCommunicator (minseq/parallel/comm.py) reaches: ``nccl.X`` and
    ``self.nccl.X`` (names of ``cupy.cuda.nccl``, with the data types of its DTYPES table),
    ``self.comm.X`` (methods of ``NcclCommunicator``), ``cupy.a.b`` and ``self.cupy.a.b``
    (names under ``cupy``)."""
    from minseq.parallel.comm import NCCLCommunicator
    source = (PACKAGE / "parallel" / "comm.py").read_text()
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef)
               and n.name == "NCCLCommunicator")
    found = {"nccl": set(NCCLCommunicator.DTYPES.values()), "comm": set(), "cupy": set()}
    inner = {id(n.value) for n in ast.walk(cls) if isinstance(n, ast.Attribute)}
    for node in ast.walk(cls):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        chain = chain[::-1]
        if isinstance(node, ast.Name) and node.id in ("nccl", "cupy"):    # the imported names
            chain = [node.id] + chain
        elif not (isinstance(node, ast.Name) and node.id == "self"):
            continue
        if chain[0] in found and len(chain) > 1:
            found[chain[0]].add(".".join(chain[1:]))
    return found


def _nccl_compiled_names():
    """The strings compiled into CuPy's NCCL binding (cupy_backends.cuda.libs.nccl): where
    NCCL's own library does not load, as on a machine with no GPU, ``cupy.cuda.nccl`` holds
    only ``available``, but its binding's names are still in the compiled module."""
    import importlib.util
    libs = pathlib.Path(importlib.util.find_spec("cupy_backends").origin).parent / "cuda" / "libs"
    binaries = sorted(libs.glob("nccl*.so")) + sorted(libs.glob("nccl*.pyd"))
    assert binaries, f"no compiled NCCL binding under {libs}"
    return b"\n".join(_compiled_strings(p) for p in binaries)


def _compiled_name(name, compiled):
    return re.search(rb"(?<![A-Za-z0-9_])" + re.escape(name.encode()) + rb"(?![A-Za-z0-9_])",
                     compiled) is not None


def test_the_nccl_names_the_communicator_uses_are_cupys(cupy):
    """NCCLCommunicator cannot run without 2 GPUs; its names are checked here: on the module
    where NCCL's library loads, else in the strings compiled into CuPy's binding of it."""
    import importlib
    nccl = importlib.import_module("cupy.cuda.nccl")
    found = nccl_uses()
    assert {"get_unique_id", "NcclCommunicator", "NCCL_SUM"} <= found["nccl"]
    assert {"allReduce", "bcast"} <= found["comm"]
    problems = []
    for name in sorted(found["cupy"]):
        obj = cupy
        for part in name.split("."):
            if not hasattr(obj, part):
                problems.append(f"cupy.{name}: no {part} in cupy {cupy.__version__}")
                break
            obj = getattr(obj, part)
    if nccl.available:
        problems += [f"nccl.{n}: not in cupy {cupy.__version__}" for n in sorted(found["nccl"])
                     if not hasattr(nccl, n)]
        problems += [f"NcclCommunicator.{n}: not in cupy {cupy.__version__}"
                     for n in sorted(found["comm"]) if not hasattr(nccl.NcclCommunicator, n)]
    else:
        compiled = _nccl_compiled_names()
        assert not _compiled_name("allReduceEverywhere", compiled)    # the search can say no
        problems += [f"{n}: not in cupy {cupy.__version__}'s NCCL binding"
                     for n in sorted(found["nccl"] | found["comm"])
                     if not _compiled_name(n, compiled)]
    assert not problems, "\n".join(problems)
