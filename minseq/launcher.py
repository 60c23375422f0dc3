"""What the launcher (``mpiexec``, ``mpirun``, ``srun``) tells a process in its environment: how
many processes it started (``launched_size``) and this one's number (``launched_rank``).

Read without MPI, and before it starts: minseq.parallel.comm starts MPI only when more than one
process runs, and on CuPy the backend switch gives process r GPU r % count before any array is
made (minseq.backend.switch).
"""

import os

#: the environment variables in which launchers say how many processes run: Open MPI, MPICH's
#: and Intel MPI's Hydra (and Slurm's PMI), PMIx, MVAPICH
SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")

#: ... and this process's number
RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")


def _launched(names, environ, default):
    environ = os.environ if environ is None else environ
    for name in names:
        text = environ.get(name, "").strip()
        if text.isdigit():
            return int(text)
    return default


def launched_size(environ=None):
    """How many processes the launcher started (1 when no variable says)."""
    return _launched(SIZE_VARIABLES, environ, 1)


def launched_rank(environ=None):
    """This process's number among them (0 when no variable says)."""
    return _launched(RANK_VARIABLES, environ, 0)
