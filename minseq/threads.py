"""How many threads minseq computes on: the BLAS library (OpenBLAS, MKL) behind NumPy, and the
batch shards of ``minseq.parallel``.

    set_threads(threads_setting(None))     # MINSEQ_THREADS, else DEFAULT_THREADS

``--threads N`` on the command line, else the ``MINSEQ_THREADS`` environment variable, else
``DEFAULT_THREADS``; the BLAS limit is set through threadpoolctl, after NumPy has loaded. The
default is one thread: on this project's 2-core machine, shared with other work, the small
products of these models ran faster on one BLAS thread than on two (README, "Choosing the
threads"), and a second thread spinning on a busy core can slow every product many times over.
On an idle machine with more cores and large models, more threads can pay: measure with
``--threads``.
"""

import os

from threadpoolctl import ThreadpoolController, threadpool_limits

DEFAULT_THREADS = 1

_limits = []      # the active limit, kept referenced for the life of the process
_setting = []     # the count given to set_threads, once it has been called
_controller = []  # one ThreadpoolController: making one scans the loaded libraries (ms)


def threads_setting(given):
    """The thread count: ``given`` (the --threads flag), else MINSEQ_THREADS, else the default;
    a MINSEQ_THREADS that is not an integer >= 1 is a ValueError naming it."""
    if given is not None:
        return given
    text = os.environ.get("MINSEQ_THREADS")
    if text is None:
        return DEFAULT_THREADS
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"MINSEQ_THREADS must be an integer >= 1, got {text!r}")
    return int(text)


def set_threads(n):
    """Limit the BLAS thread pools to ``n`` threads, and run the batch shards of
    ``minseq.parallel`` on ``n`` threads, for the rest of the process."""
    _limits[:] = [threadpool_limits(limits=n, user_api="blas")]
    _setting[:] = [n]


def current_threads():
    """The thread count in force: the last ``set_threads``, else ``threads_setting(None)``."""
    return _setting[0] if _setting else threads_setting(None)


def one_blas_thread():
    """Context: BLAS on one thread inside it, restored on exit. Batch shards run their products
    this way: each shard is a thread of its own, and a BLAS worker left spinning after a
    product would take the core another shard needs."""
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")
