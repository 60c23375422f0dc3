"""The GPU check: minseq on CuPy in under 8 minutes, every stage logged, one summary.

    python3 tools/gpu_check.py                 # on a GPU machine (make gpu-check)
    python3 tools/gpu_check.py --dry-run       # on a CPU: "strict" in CuPy's place

Runs from the tree with the interpreter that runs it: no virtual environment, nothing installed
(it puts the checkout on PYTHONPATH for every stage). It needs numpy, cupy, torch, pytest and
hypothesis, plus minseq's own runtime packages (matplotlib, tqdm, threadpoolctl, safetensors).

Stages, in order, each under a time limit (``LIMITS``; the worst case adds up to 7m40s):

    preflight  versions, the device, an NVRTC-compiled kernel, minseq's Philox generator,
               PyTorch on CUDA (TF32 off) against a float64 product
    tests      the backend-parametrised tests (those on the xp fixture, tests/conftest.py) with
               CuPy as their backend (MINSEQ_BACKEND=cupy), in shards run side by side
    gradcheck  ``minseq gradcheck --backend cupy``, its cases in shards side by side
    lessons    three lessons on CuPy with --fast (07 transformer, 13 next item, 14 CPU vs GPU)
    bench      the LSTM and TransformerEncoderLayer rows against PyTorch CUDA

A stage's parts run as child processes. At the limit a part gets SIGINT, as from Ctrl-C, so
pytest still prints its summary of what ran and what failed; GRACE seconds later it is killed.
Each part's output goes to ``<stage>-<part>.log`` in the run folder (``--out``/run-N, never
overwritten), and ``summary.md`` / ``summary.json`` there list every stage: passed, FAILED or
timed out, its seconds and its log's last line. The exit status is 0 only if every stage passed.

``--dry-run`` runs the same stages on the CPU with the strict backend (NumPy that refuses what
CuPy refuses) in CuPy's place: the backend tests, gradcheck and lessons --backend strict, the
benchmark's quick sizes without GPU rows. ``--stages``, ``--tests``, ``--cases``, ``--lessons``,
``--layers`` and ``--limit`` narrow a run, e.g. to rerun the stage that failed.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ("preflight", "tests", "gradcheck", "lessons", "bench")
#: seconds per stage; a stage's parts run side by side, each under the stage's limit
LIMITS = {"preflight": 30, "tests": 180, "gradcheck": 60, "lessons": 60, "bench": 90}
#: seconds between SIGINT and SIGKILL: pytest's summary and a lesson's cleanup fit in it
GRACE = 8.0
LESSONS = ("07", "13", "14")
LAYERS = ("LSTM", "TransformerEncoderLayer")


@dataclass
class Part:
    """One child process of a stage: its label (in the log's name) and its command."""
    label: str
    argv: list
    env: dict = field(default_factory=dict)


@dataclass
class Outcome:
    stage: str
    part: str
    log: str
    returncode: int
    seconds: float
    timed_out: bool
    last_line: str

    @property
    def passed(self):
        return self.returncode == 0 and not self.timed_out


# -- running parts under a time limit -------------------------------------------------------
def child_env(extra):
    """The environment of every part: the checkout (and this folder, for ``-p gpu_check``)
    first on PYTHONPATH, figures off-screen, output unbuffered (a part cut off at its limit
    has written what it got to)."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "tools"),
                                                    env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def run_parts(stage, parts, limit, folder, grace=GRACE):
    """Run ``parts`` side by side, each in its own process group with output to its log; at
    ``limit`` seconds SIGINT, ``grace`` seconds later SIGKILL. Returns their Outcomes."""
    running, interrupted, ended = [], {}, {}
    try:
        for part in parts:
            path = folder / f"{stage}-{part.label}.log"
            with open(path, "w") as out:
                out.write("$ " + " ".join(part.argv) + "\n")
                out.flush()
                proc = subprocess.Popen(part.argv, cwd=ROOT, env=child_env(part.env),
                                        stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            running.append((part, path, proc, time.monotonic()))
        while len(ended) < len(running):
            for part, _, proc, started in running:
                now = time.monotonic()
                if part.label in ended:
                    continue
                if proc.poll() is not None:
                    ended[part.label] = now - started
                elif part.label not in interrupted and now - started >= limit:
                    interrupted[part.label] = True
                    _signal_group(proc, signal.SIGINT)
                elif part.label in interrupted and now - started >= limit + grace:
                    _signal_group(proc, signal.SIGKILL)
            time.sleep(0.05)
    finally:                                 # Ctrl-C of this script: end every part it started
        for _, _, proc, _ in running:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
    return [Outcome(stage, part.label, path.name, proc.returncode,
                    round(ended[part.label], 1), part.label in interrupted, _last_line(path))
            for part, path, proc, _ in running]


def _last_line(path):
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "(no output)"


# -- the stages -----------------------------------------------------------------------------
def pytest_collection_modifyitems(config, items):
    """Loaded into each tests shard (``-p gpu_check``): keeps only the backend-parametrised
    tests (those on the xp fixture, tests/conftest.py) and of them every n-th from the i-th,
    for GPU_CHECK_SHARD="i/n", so the slow files spread over all the shards."""
    i, n = (int(k) for k in os.environ["GPU_CHECK_SHARD"].split("/"))
    on_backend = [item for item in items
                  if "xp" in getattr(getattr(item, "callspec", None), "params", {})]
    keep = set(on_backend[i::n])
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = [item for item in items if item in keep]


def build_stages(args):
    """name -> (limit, parts) for the stages asked for."""
    device = "strict" if args.dry_run else "cupy"
    py = sys.executable
    stages = {}
    stages["preflight"] = [Part("checks", [py, str(Path(__file__).resolve()), "--preflight"]
                                + (["--dry-run"] if args.dry_run else []))]
    # every shard collects every file; this script, loaded as a pytest plugin, keeps its share
    stages["tests"] = [Part(str(i + 1), [py, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                         "-p", "gpu_check", *args.tests],
                            {"MINSEQ_BACKEND": device, "GPU_CHECK_SHARD": f"{i}/{args.shards}"})
                       for i in range(args.shards)]
    stages["gradcheck"] = [Part(str(i + 1), [py, "-m", "minseq", "gradcheck", "--backend",
                                             device, *args.cases[i::args.shards]])
                           for i in range(min(args.shards, len(args.cases)))]
    stages["lessons"] = [Part(n, [py, "-m", "minseq", "lessons", n, "--backend", device,
                                  "--fast", "--out", str(args.run_folder / "lessons")])
                         for n in args.lessons]
    bench = [py, "-m", "minseq", "bench", "--only", *args.layers,
             "--out", str(args.run_folder / "bench")]
    bench += ["--quick", "--no-gpu"] if args.dry_run else ["--repeats", "3", "--gap", "0.05"]
    stages["bench"] = [Part("rows", bench)]
    return {name: (args.limits[name], stages[name]) for name in args.stages}


# -- the summary ----------------------------------------------------------------------------
def write_summary(folder, header, outcomes, finished):
    """summary.json and summary.md in ``folder``, each written whole or not at all."""
    from minseq.files import atomic_write
    by_stage = {}
    for o in outcomes:
        by_stage.setdefault(o.stage, []).append(o)
    rows = []
    for stage, parts in by_stage.items():
        state = ("passed" if all(p.passed for p in parts) else
                 "timed out" if any(p.timed_out for p in parts) else "FAILED")
        rows.append({"stage": stage, "result": state,
                     "seconds": max(p.seconds for p in parts),
                     "parts": [vars(p) | {"passed": p.passed} for p in parts]})
    passed = finished and all(r["result"] == "passed" for r in rows)
    summary = dict(header, finished=finished, passed=passed, stages=rows)
    with atomic_write(folder / "summary.json", "w") as f:
        json.dump(summary, f, indent=1)
    lines = [f"# GPU check{' (dry run: strict in place of CuPy)' if header['dry_run'] else ''}",
             "", f"{header['machine']}; {header['python']}; started {header['started']}.", "",
             "| stage | part | result | seconds | log | last line |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        for p in r["parts"]:
            result = ("passed" if p["passed"] else "timed out" if p["timed_out"]
                      else f"FAILED (exit {p['returncode']})")
            last = p["last_line"].replace("|", "\\|")
            lines.append(f"| {r['stage']} | {p['part']} | {result} | {p['seconds']} | "
                         f"{p['log']} | {last} |")
    lines += ["", "All stages passed." if passed else
              "Interrupted before every stage ran." if not finished else
              "Failed: " + ", ".join(r["stage"] for r in rows if r["result"] != "passed") + "."]
    with atomic_write(folder / "summary.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    return passed


# -- preflight (run as a part of its own: a hung driver cannot hang the check) ---------------
def preflight(dry_run):
    """Print one line per check, "ok" or "FAIL"; True when all passed."""
    failures = 0

    def check(name, fn):
        nonlocal failures
        try:
            print(f"ok    {name:<22} {fn()}", flush=True)
        except Exception as exc:             # each check reports its own failure and goes on
            failures += 1
            print(f"FAIL  {name:<22} {type(exc).__name__}: {exc}", flush=True)

    check("python", lambda: f"{platform.python_version()} at {sys.executable}")
    for name in ("numpy", "pytest", "hypothesis", "matplotlib", "tqdm", "threadpoolctl",
                 "safetensors") + (() if dry_run else ("cupy", "torch")):
        check(name, lambda name=name: _version(name))
    if dry_run:
        check("device", lambda: "none: dry run, the strict backend in CuPy's place")
    else:
        check("CUDA device", _cuda_device)
    check("compiled kernel", lambda: _kernel_check(dry_run))
    check("Philox generator", lambda: _philox_check(dry_run))
    check("PyTorch on CUDA", lambda: _torch_check(dry_run))
    print("preflight: " + ("all passed" if not failures else f"{failures} check(s) FAILED"))
    return not failures


def _version(name):
    module = __import__(name)
    return getattr(module, "__version__", "(no version)")


def _cuda_device():
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return (f"{name}, compute {props['major']}.{props['minor']}, "
            f"{props['totalGlobalMem'] / 2**30:.0f} GiB; CUDA runtime "
            f"{cupy.cuda.runtime.runtimeGetVersion()}, driver "
            f"{cupy.cuda.runtime.driverGetVersion()}")


SAXPY = r"""
extern "C" __global__ void saxpy(const float a, const float* x, const float* y, float* out,
                                 const int n) {
    int i = blockDim.x * blockIdx.x + threadIdx.x;
    if (i < n) out[i] = a * x[i] + y[i];
}
"""


def _kernel_check(dry_run):
    """out = a x + y through a kernel NVRTC compiles (the strict backend's xp in a dry run),
    against NumPy on the host."""
    import numpy as np
    n = 100_003                                  # not a multiple of the block: tests the guard
    x, y = (np.random.default_rng(s).standard_normal(n, dtype=np.float32) for s in (1, 2))
    if dry_run:
        from minseq import backend
        backend.use_backend("strict")
        got = backend.to_numpy(2.5 * backend.asarray(x) + backend.asarray(y))
        how = "strict xp (no NVRTC in a dry run)"
    else:
        import cupy
        kernel = cupy.RawKernel(SAXPY, "saxpy")
        out = cupy.empty(n, dtype=cupy.float32)
        kernel(((n + 255) // 256,), (256,),
               (np.float32(2.5), cupy.asarray(x), cupy.asarray(y), out, np.int32(n)))
        got = out.get()
        how = "NVRTC-compiled saxpy"
    err = float(np.abs(got - (np.float32(2.5) * x + y)).max())
    if err > 1e-6:
        raise AssertionError(f"{how} differs from NumPy by {err:.2e}")
    return f"{how}, {n} elements, max difference {err:.1e}"


def _philox_check(dry_run):
    """minseq's device generator (Philox on CuPy): the same seed, the same draws; another seed,
    others; uniforms with mean 1/2 within 5 standard errors (a fixed seed: no chance)."""
    from minseq import backend
    backend.use_backend("strict" if dry_run else "cupy")
    rng = backend.device_rng(7)
    bits = getattr(rng, "bit_generator", None) or getattr(rng, "_bit_generator", None)
    kind = type(bits).__name__ if bits is not None else "a generator"
    draws = backend.to_numpy(rng.random(200_000))
    again = backend.to_numpy(backend.device_rng(7).random(200_000))
    other = backend.to_numpy(backend.device_rng(8).random(200_000))
    if not (draws == again).all() or (draws == other).all():
        raise AssertionError("the same seed must give the same draws, another seed others")
    mean, bound = float(draws.mean()), 5 * (1 / 12) ** 0.5 / 200_000 ** 0.5
    if abs(mean - 0.5) > bound:
        raise AssertionError(f"uniform mean {mean:.5f}, expected 0.5 +- {bound:.5f}")
    if not dry_run and bits is not None and "Philox" not in kind:
        raise AssertionError(f"device_rng made a {kind}, not Philox")
    return f"{kind}, 200,000 uniforms, mean {mean:.5f}"


def _torch_check(dry_run):
    """A float32 product on CUDA with TF32 off against the float64 product on the host."""
    import numpy as np
    try:
        import torch
    except ImportError:
        if dry_run:
            return "not installed (a dry run goes on without it)"
        raise
    device = "cpu" if dry_run else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no device")
    torch.backends.cuda.matmul.allow_tf32 = False
    a, b = (np.random.default_rng(s).standard_normal((512, 512)) for s in (3, 4))
    got = (torch.from_numpy(a.astype(np.float32)).to(device)
           @ torch.from_numpy(b.astype(np.float32)).to(device)).cpu().numpy()
    want = a @ b
    err = float(np.abs(got - want).max() / np.abs(want).max())
    if err > 1e-5:
        raise AssertionError(f"float32 product off the float64 one by {err:.1e} (TF32 on?)")
    where = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)"
    return f"torch {torch.__version__} on {where}, 512^3 product within {err:.1e}"


# -- the command line -----------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """A bad setting is one line, exit 2, before any stage starts."""
        self.exit(2, f"gpu_check: {message}\n")


def parse_args(argv):
    p = _Parser(description=__doc__.split("\n")[0])
    p.add_argument("--dry-run", action="store_true",
                   help="on a CPU, with the strict backend in CuPy's place")
    p.add_argument("--out", default="out/gpu-check",
                   help="the run goes into OUT/run-N, the first N not yet taken")
    p.add_argument("--stages", nargs="+", default=list(STAGES), metavar="STAGE",
                   help=f"only these stages, of {', '.join(STAGES)}")
    p.add_argument("--shards", type=int, default=6,
                   help="test and gradcheck shards run side by side (default 6)")
    p.add_argument("--tests", nargs="+", default=["tests"], metavar="PATH",
                   help="test files or folders whose backend-parametrised tests to run "
                        "(default: tests)")
    p.add_argument("--cases", nargs="+", default=None, metavar="NAME",
                   help="gradient-check cases (default: all)")
    p.add_argument("--lessons", nargs="+", default=list(LESSONS), metavar="N")
    p.add_argument("--layers", nargs="+", default=list(LAYERS), metavar="LAYER",
                   help="benchmark layers")
    p.add_argument("--limit", action="append", default=[], metavar="STAGE=SECONDS",
                   help="another time limit for a stage (repeatable)")
    p.add_argument("--preflight", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    _check_args(p, args)
    return args


def _check_args(p, args):
    """Every setting, checked before any stage starts."""
    unknown = [s for s in args.stages if s not in STAGES]
    if unknown:
        p.error(f"unknown stage(s) {unknown}; the stages are {', '.join(STAGES)}")
    args.stages = [s for s in STAGES if s in args.stages]
    if args.shards < 1:
        p.error(f"--shards must be at least 1, got {args.shards}")
    args.limits = dict(LIMITS)
    for text in args.limit:
        stage, _, seconds = text.partition("=")
        try:
            value = float(seconds)
        except ValueError:
            value = -1.0
        if stage not in STAGES or not value > 0:
            p.error(f"--limit takes STAGE=SECONDS with a stage of {', '.join(STAGES)} and "
                    f"seconds > 0, got {text!r}")
        args.limits[stage] = value
    missing = [f for f in args.tests if not (ROOT / f).exists()]
    if missing:
        p.error(f"--tests: no such test file(s) {missing} (paths from the checkout's root)")
    from minseq.gradcheck.registry import CASES
    if args.cases is None:
        args.cases = list(CASES)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        p.error(f"--cases: unknown gradient-check case(s) {unknown}; see minseq gradcheck")
    lessons = sorted(f.stem for f in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    unknown = [n for n in args.lessons if not any(s[:2] == n.zfill(2) for s in lessons)]
    if unknown:
        p.error(f"--lessons: no lesson numbered {unknown}; there are {lessons[0][:2]} to "
                f"{lessons[-1][:2]}")
    from minseq.bench.cases import layer_cases
    known = sorted({c.layer for c in layer_cases(quick=True)})
    unknown = [name for name in args.layers if name not in known]
    if unknown:
        p.error(f"--layers: unknown benchmark layer(s) {unknown}; known: {', '.join(known)}")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.preflight:
        return 0 if preflight(args.dry_run) else 1
    from minseq.files import next_run_folder
    args.run_folder = next_run_folder(ROOT / args.out if not Path(args.out).is_absolute()
                                      else Path(args.out))
    args.run_folder.mkdir(parents=True)
    header = {"dry_run": args.dry_run, "python": f"Python {platform.python_version()}",
              "machine": f"{platform.node()} ({os.cpu_count()} CPUs)",
              "started": time.strftime("%Y-%m-%d %H:%M:%S"), "limits": args.limits,
              "argv": sys.argv[1:] if argv is None else list(argv)}
    print(f"GPU check{' (dry run)' if args.dry_run else ''}: stages {', '.join(args.stages)}; "
          f"logs and summary in {args.run_folder}")
    outcomes, finished = [], False
    try:
        for name, (limit, parts) in build_stages(args).items():
            print(f"-- {name}: {len(parts)} part(s) side by side, limit {limit:g} s", flush=True)
            for o in run_parts(name, parts, limit, args.run_folder):
                outcomes.append(o)
                state = "passed" if o.passed else "TIMED OUT" if o.timed_out else "FAILED"
                print(f"   {o.part:<6} {state:<9} {o.seconds:7.1f} s  {o.last_line}", flush=True)
        finished = True
    except KeyboardInterrupt:
        print("interrupted: the summary lists the stages that ran")
    passed = write_summary(args.run_folder, header, outcomes, finished)
    print(f"{'all stages passed' if passed else 'GPU check FAILED'}; summary: "
          f"{args.run_folder / 'summary.md'}")
    return 0 if passed else (130 if not finished else 1)


if __name__ == "__main__":
    raise SystemExit(main())
