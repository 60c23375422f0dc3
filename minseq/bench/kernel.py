"""Which OpenBLAS kernel a timing ran on, whether the environment forced an older one, and how
to time on the CPU's own.

OpenBLAS picks its kernel (``Haswell``, ``SkylakeX``, ``Zen``, ...) from the CPU when NumPy
loads it, unless ``OPENBLAS_CORETYPE`` names one; ``OPENBLAS_L2_SIZE`` overrides the cache size
its blocking assumes. Some machines set both because old OpenBLAS builds miscompute on some
CPUs. That is right for tests, and wrong for a timing: on a CPU with AVX-512 a forced AVX2
kernel multiplies more slowly than the one a user, whose environment has no such variable,
gets. So the rule (README, "Method"): tests keep the environment; a timing command sets the
two variables aside for the timed process alone, and its result names the kernel it ran on.

    vector_extensions()            # ["avx", "avx2", "avx512f"] from /proc/cpuinfo, or None
    blas_variables()               # {"OPENBLAS_CORETYPE": "Haswell"}: those set
    native_probe(n, threads)       # {"kernel", "gflops"} of a child without the variables
    run_natively(argv, "name")     # re-run this script without them (before NumPy loads)

Host-side code: the variables take effect only when OpenBLAS loads, so the native kernel is
always measured in a child process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

#: the variables that override OpenBLAS's choice of kernel and blocking
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: the x86 vector extensions that decide which kernels a CPU can run
VECTOR_EXTENSIONS = ("avx", "avx2", "avx512f")


def vector_extensions(cpuinfo="/proc/cpuinfo"):
    """The VECTOR_EXTENSIONS this CPU has, from the first ``flags`` line of ``cpuinfo``
    (Linux); None where there is no such file (macOS, Windows) or no flags line (ARM)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [e for e in VECTOR_EXTENSIONS if e in flags]
    except OSError:
        pass
    return None


def blas_variables(environ=None):
    """{name: value} of the BLAS_VARIABLES set in ``environ`` (default: this process's)."""
    environ = os.environ if environ is None else environ
    return {k: environ[k] for k in BLAS_VARIABLES if k in environ}


def native_environment(environ=None):
    """A copy of ``environ`` (default: this process's) without the BLAS_VARIABLES."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if k not in BLAS_VARIABLES}


def unset_prefix(variables):
    """The shell prefix that runs a command without ``variables``: ``env -u A -u B``."""
    return "env " + " ".join(f"-u {k}" for k in variables)


def blas_pool():
    """threadpoolctl's record of NumPy's BLAS (with its ``architecture``: the kernel), or None."""
    from threadpoolctl import threadpool_info
    import numpy  # noqa: F401  (threadpoolctl sees only loaded libraries)
    return next((p for p in threadpool_info() if p.get("user_api") == "blas"), None)


def _probe(n, threads):
    """In the child: this process's kernel and its GEMM throughput on ``threads`` threads."""
    from threadpoolctl import threadpool_limits
    import numpy
    from .machine import gemm_gflops
    rng = numpy.random.default_rng(0)
    with threadpool_limits(limits=threads, user_api="blas"):
        gflops = gemm_gflops(numpy.matmul,
                             lambda shape: rng.standard_normal(shape, dtype=numpy.float32), n)
    return {"kernel": (blas_pool() or {}).get("architecture"), "gflops": gflops}


def native_probe(n=2048, threads=1, timeout=300):
    """{"kernel", "gflops"}: OpenBLAS's kernel and the GEMM probe (an n x n float32 product on
    ``threads`` threads) in a child process started without the BLAS_VARIABLES, that is on the
    kernel OpenBLAS picks for this CPU."""
    env = native_environment()
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    code = (f"import json; from minseq.bench.kernel import _probe; "
            f"print(json.dumps(_probe({int(n)}, {int(threads)})))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def forced_kernel_note(variables, kernel, extensions, gflops, native):
    """One line when ``variables`` (the BLAS_VARIABLES set) made OpenBLAS run ``kernel``
    although, without them, it picks ``native["kernel"]`` on this CPU: what is forced, how much
    faster the native kernel's GEMM probe ran (``native["gflops"]`` against ``gflops``) and how
    to time without the variables. None when nothing is forced."""
    if not variables or not native or not kernel or native.get("kernel") in (None, kernel):
        return None
    names = ", ".join(f"{k}={v}" for k, v in variables.items())
    cpu = f" ({', '.join(extensions)})" if extensions else ""
    speed = (f", whose GEMM probe ran {native['gflops'] / gflops:.2f}x as fast "
             f"({native['gflops']:.0f} against {gflops:.0f} GFLOP/s)" if gflops else "")
    return (f"{names} forces OpenBLAS's {kernel} kernel; this CPU's{cpu} own is "
            f"{native['kernel']}{speed}: time on it with `{unset_prefix(variables)} <command>`.")


def run_natively(argv, name):
    """Re-run this Python script (``argv``: sys.argv) in place without the BLAS_VARIABLES, so
    what it times runs on OpenBLAS's native kernel; returns at once when none is set. Call it
    before anything loads NumPy: the variables take effect only when OpenBLAS loads."""
    variables = blas_variables()
    if not variables:
        return
    print(f"{name}: timing on OpenBLAS's native kernel: {', '.join(variables)} set aside for "
          f"this process (README, benchmark method)", file=sys.stderr, flush=True)
    os.execve(sys.executable, [sys.executable, *argv], native_environment())


def timing_setup(probe_n=256):
    """The lines to print before timing: NumPy's BLAS, its kernel and its threads now, and,
    when a BLAS variable forces an older kernel than this CPU's, ``forced_kernel_note``'s line
    (both GEMM probes at ``probe_n``, on the thread count in force)."""
    import numpy
    from .machine import gemm_gflops
    pool = blas_pool() or {}
    kernel, threads = pool.get("architecture"), pool.get("num_threads") or 1
    variables = blas_variables()
    lines = [f"BLAS: {pool.get('internal_api', 'unknown')} {pool.get('version', '')}, kernel "
             f"{kernel or 'unknown'}, {threads} thread{'s' * (threads > 1)}; BLAS variables: "
             + (", ".join(f"{k}={v}" for k, v in variables.items()) or "none")]
    if variables:
        rng = numpy.random.default_rng(0)
        gflops = gemm_gflops(numpy.matmul,
                             lambda shape: rng.standard_normal(shape, dtype=numpy.float32),
                             probe_n)
        note = forced_kernel_note(variables, kernel, vector_extensions(), gflops,
                                  native_probe(probe_n, threads))
        lines += [note] if note else []
    return lines
