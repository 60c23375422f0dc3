"""Communicators: how the processes of one data-parallel run talk to each other.

One small interface, three versions (and a stand-in for NCCL on the strict backend):

    comm.rank, comm.size        this process's number (0 .. size - 1) and how many run
    comm.allreduce(buffer)      buffer <- the sum of every process's buffer (in place; returned)
    comm.broadcast(buffer, root=0)   buffer <- root's buffer (in place; returned)
    comm.barrier()              wait until every process is here
    comm.abort(status)          stop every process now (a failure the others cannot know of)
    comm.leads                  rank 0: the one process that prints and writes files

- ``SingleProcess``: the default; one process, and every call leaves the buffer as it is.
- ``MPICommunicator``: mpi4py's ``COMM_WORLD``, for host (NumPy) buffers. mpi4py is imported
  only here, so minseq runs without it while one process runs.
- ``NCCLCommunicator``: ``cupy.cuda.nccl`` for device (CuPy) buffers: each process takes GPU
  ``rank % device_count`` (the backend switch gives it that GPU first, before any array is
  made: minseq.backend.switch); rank 0 makes NCCL's unique id and MPI broadcasts it to the
  others, which is how ChainerMN starts NCCL.

``world()`` is this process's communicator: ``SingleProcess`` unless a launcher (``mpiexec``,
``mpirun``, ``srun``) says more than one process runs (``launched_size``), then the MPI one;
without mpi4py that is an ``MPIMissing`` error saying what to install. ``use_world`` puts
another in place (tests, or a program that made its own). ``for_arrays(comm)`` is the one that
sums the active backend's arrays: on CuPy, NCCL over ``comm``'s processes; on the strict
backend, ``StagedCommunicator``: MPI through host copies, so that a CPU run checks the path
NCCL serves.
"""

import sys

from .. import backend
from ..launcher import RANK_VARIABLES, SIZE_VARIABLES, launched_rank, launched_size

__all__ = ["SingleProcess", "MPICommunicator", "NCCLCommunicator", "StagedCommunicator",
           "MPIMissing", "world", "for_arrays", "use_world", "leads", "launched_size",
           "launched_rank", "SIZE_VARIABLES", "RANK_VARIABLES"]

INSTALL = ("pip install 'minseq[mpi]' (mpi4py and the mpich wheel, which brings mpiexec); on a "
           "cluster, your site's MPI and mpi4py built against it")


class MPIMissing(RuntimeError):
    """More than one process was asked for and mpi4py does not import."""


class SingleProcess:
    """One process: rank 0 of 1; a sum or a broadcast over one process is its own buffer."""

    rank, size = 0, 1

    @property
    def leads(self):
        return self.rank == 0

    def allreduce(self, buffer):
        return buffer

    def broadcast(self, buffer, root=0):
        return buffer

    def barrier(self):
        pass

    def abort(self, status):
        raise SystemExit(status)

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


def import_mpi():
    """mpi4py's MPI module, or MPIMissing naming what to install."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise MPIMissing(f"more than one process needs mpi4py ({exc}): {INSTALL}") from None
    return MPI


class MPICommunicator(SingleProcess):
    """``comm`` (default mpi4py's ``COMM_WORLD``): sums and broadcasts of host arrays, in
    place."""

    def __init__(self, comm=None):
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        if self.size > 1:
            sys.excepthook = self._abort_on_error(sys.excepthook)

    def _abort_on_error(self, report):
        """An error no handler caught, in one process: reported, then every process stops (the
        others would wait for it in their next sum, for ever)."""
        def hook(kind, value, traceback):
            report(kind, value, traceback)
            sys.stderr.flush()
            self.abort(1)
        return hook

    def abort(self, status):
        self.comm.Abort(status)

    def allreduce(self, buffer):
        self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
        return buffer

    def broadcast(self, buffer, root=0):
        self.comm.Bcast(buffer, root=root)
        return buffer

    def barrier(self):
        self.comm.Barrier()


class NCCLCommunicator(SingleProcess):
    """NCCL over the GPUs of the MPI processes ``mpi`` (an MPICommunicator): sums and
    broadcasts of CuPy arrays on the current stream; the barrier is MPI's, after the stream."""

    #: NumPy dtype name -> the name of NCCL's data type in ``cupy.cuda.nccl``
    DTYPES = {"float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64", "int64": "NCCL_INT64",
              "uint8": "NCCL_UINT8"}

    def __init__(self, mpi=None):
        import cupy
        from cupy.cuda import nccl
        self.cupy, self.nccl, self.mpi = cupy, nccl, mpi or MPICommunicator()
        self.rank, self.size = self.mpi.rank, self.mpi.size
        cupy.cuda.Device(self.rank % cupy.cuda.runtime.getDeviceCount()).use()
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = self.mpi.comm.bcast(uid, root=0)
        self.comm = nccl.NcclCommunicator(self.size, uid, self.rank)

    def _dtype(self, buffer):
        name = self.DTYPES.get(buffer.dtype.name)
        if name is None:
            raise TypeError(f"NCCLCommunicator: no NCCL type for {buffer.dtype.name}; "
                            f"one of {', '.join(self.DTYPES)}")
        return getattr(self.nccl, name)

    def allreduce(self, buffer):
        stream = self.cupy.cuda.get_current_stream()
        self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, self._dtype(buffer),
                            self.nccl.NCCL_SUM, stream.ptr)
        return buffer

    def broadcast(self, buffer, root=0):
        stream = self.cupy.cuda.get_current_stream()
        self.comm.bcast(buffer.data.ptr, buffer.size, self._dtype(buffer), root, stream.ptr)
        return buffer

    def barrier(self):
        self.cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()

    def abort(self, status):
        self.mpi.abort(status)


class StagedCommunicator(SingleProcess):
    """The strict backend's arrays (minseq.strict: NumPy that refuses what CuPy refuses) summed
    over the MPI processes ``mpi`` through explicit host copies: NCCL's part on a CPU. Every
    buffer the training and the evaluations sum stays a device-like array, as on CuPy, so a CPU
    run under ``mpiexec`` with the strict backend checks the device path that NCCL serves."""

    def __init__(self, mpi):
        self.mpi, self.rank, self.size = mpi, mpi.rank, mpi.size

    def _staged(self, buffer, combine):
        host = backend.to_numpy(buffer).copy()
        buffer[...] = backend.asarray(combine(host))
        return buffer

    def allreduce(self, buffer):
        return self._staged(buffer, self.mpi.allreduce)

    def broadcast(self, buffer, root=0):
        return self._staged(buffer, lambda host: self.mpi.broadcast(host, root))

    def barrier(self):
        self.mpi.barrier()

    def abort(self, status):
        self.mpi.abort(status)


def leads():
    """Whether this process prints and writes: rank 0 of ``world()``, or, before that is made
    (or when it cannot be), the process the launcher numbered 0."""
    if _world:
        return _world[0].leads
    return launched_rank() == 0


_world = []
_nccl = {}      # id(an MPICommunicator) -> the NCCLCommunicator over its processes


def world():
    """This process's communicator (made on first use; see the module docstring)."""
    if not _world:
        _world.append(MPICommunicator() if launched_size() > 1 else SingleProcess())
    return _world[0]


def for_arrays(comm):
    """The communicator that sums arrays of the active backend among ``comm``'s processes:
    ``comm`` itself on NumPy; on CuPy the NCCL communicator over them (made once); on the
    strict backend a StagedCommunicator over them."""
    name = backend.get_backend()
    if comm.size == 1 or name == "numpy" or isinstance(comm, (NCCLCommunicator,
                                                               StagedCommunicator)):
        return comm
    if name == "strict":
        return StagedCommunicator(comm)
    if id(comm) not in _nccl:
        _nccl[id(comm)] = NCCLCommunicator(comm)
    return _nccl[id(comm)]


def use_world(comm):
    """Make ``comm`` this process's communicator (``world()``) from now on."""
    _world[:] = [comm]

