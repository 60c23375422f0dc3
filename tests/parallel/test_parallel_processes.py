"""Communicators and data parallel without MPI: the single process, the launcher's variables,
the missing extra, and DataParallel's math on 2 simulated processes (threads summing their
buffers), which must train what one process trains. test_distributed.py runs the same under
mpiexec."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from minseq import backend, optim, tasks
from minseq.backend import xp
from minseq.data import generate
from minseq.models import LSTMClassifier, SASRec
from minseq.models.baselines import Markov
from minseq.models.behaviour_baselines import MarkovBehaviour
from minseq.parallel import comm as comm_module
from minseq.parallel.comm import SingleProcess, for_arrays, launched_rank, launched_size
from minseq.parallel.processes import DataParallel, ProcessFailed, loss_terms, shared_rows
from minseq.tasks.checks import SettingError
from minseq.tasks.settings import RunSettings
from minseq.train import Trainer
from paths import ROOT


class ThreadWorld:
    """``size`` simulated processes, one thread each: allreduce sums every thread's buffer (in
    rank order), broadcast copies root's."""

    def __init__(self, size):
        self.size, self.buffers = size, [None] * size
        self.barrier = threading.Barrier(size, timeout=30)

    def rank_view(self, rank):
        world = self

        class Rank(SingleProcess):
            def allreduce(self, buffer):
                return world.combine(rank, buffer, lambda parts: sum(parts[1:], parts[0].copy()))

            def broadcast(self, buffer, root=0):
                return world.combine(rank, buffer, lambda parts: parts[root].copy())

        view = Rank()
        view.rank, view.size = rank, self.size
        return view

    def combine(self, rank, buffer, how):
        self.buffers[rank] = buffer.copy()
        self.barrier.wait()
        buffer[...] = how(self.buffers)
        self.barrier.wait()
        return buffer


def run_ranks(size, work):
    """work(comm) on ``size`` threads; returns each rank's result or exception."""
    world, results = ThreadWorld(size), [None] * size

    def one(rank):
        try:
            results[rank] = work(world.rank_view(rank))
        except Exception as exc:         # the test reads every rank's outcome
            results[rank] = exc

    threads = [threading.Thread(target=one, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a simulated process hangs"
    return results


def data(rows=7, bad_row=None):
    x = np.random.default_rng(0).integers(1, 4, size=(rows, 5))
    if bad_row is not None:
        x[bad_row, 2] = 99
    y = np.random.default_rng(1).integers(0, 3, size=rows)
    return [(xp.asarray(x), xp.asarray(y), xp.ones((rows, 5), dtype=bool))]


def classifier(dropout=0.0):
    """A small LSTM classifier, float64; made in the main thread (the host generator that
    initialises it is one for the process)."""
    backend.manual_seed(0)
    return LSTMClassifier(3, 3, d_model=6, embed_dim=4, dropout=dropout).astype("float64")


def train(comm, net, batches, steps=3):
    trainer = Trainer(net, optim.Adam(net, lr=0.05), clip_norm=0.1, progress=False, comm=comm)
    losses = [trainer.train_epoch(batches) for _ in range(steps)]
    return net.state_dict(), losses


def test_the_single_process_leaves_every_buffer_as_it_is():
    one, buffer = SingleProcess(), np.arange(3.0)
    assert (one.rank, one.size, one.leads) == (0, 1, True)
    assert one.allreduce(buffer) is buffer and one.broadcast(buffer) is buffer
    assert buffer.tolist() == [0, 1, 2]


def test_the_launcher_s_variables_say_how_many_processes_run_and_which_this_is():
    assert launched_size({}) == 1 and launched_rank({}) == 0
    assert launched_size({"PMI_SIZE": "4"}) == 4
    assert launched_size({"OMPI_COMM_WORLD_SIZE": "2", "PMI_SIZE": "3"}) == 2
    assert launched_rank({"PMI_SIZE": "4", "PMI_RANK": "3"}) == 3
    assert launched_rank({"PMIX_RANK": " 2 ", "MV2_COMM_WORLD_RANK": "x"}) == 2


def test_two_simulated_processes_train_what_one_trains():
    """7 rows: 4 + 3, each share weighted by its rows; the loss and every parameter agree."""
    alone, losses = train(SingleProcess(), classifier(), data())
    nets = [classifier() for _ in range(2)]
    results = run_ranks(2, lambda comm: train(comm, nets[comm.rank], data()))
    for state, rank_losses in results:
        np.testing.assert_allclose(rank_losses, losses, rtol=1e-12)
        assert max(float(np.abs(state[k] - alone[k]).max()) for k in alone) < 1e-10


def test_a_bad_row_in_one_share_stops_every_process_with_its_message():
    nets = [classifier() for _ in range(2)]
    results = run_ranks(2, lambda comm: train(comm, nets[comm.rank], data(bad_row=5)))
    # rows 4..6 of 7 are rank 1's
    assert isinstance(results[1], IndexError)
    assert isinstance(results[0], ProcessFailed)
    assert str(results[0]) == f"process 1 of 2: {results[1]}"


def test_a_share_s_weight_is_its_loss_terms():
    net = SASRec(10, maxlen=4, d_model=4, num_layers=1)
    targets = xp.asarray([[0, 0, 1, 2], [0, 3, 4, 5]])
    assert loss_terms(net, (targets, targets)) == 5
    assert loss_terms(LSTMClassifier(3, 3), (xp.zeros((6, 2)),)) == 6


def test_shared_rows_deal_out_whole_batches_and_sum_them_exactly():
    values = np.random.default_rng(2).random((11, 3))
    compute = lambda lo, hi: xp.asarray(values[lo:hi])  # noqa: E731
    results = run_ranks(3, lambda comm: shared_rows(comm, 11, 4, compute, (3,), values.dtype))
    for rows in results:
        assert np.array_equal(backend.to_numpy(rows), values)
    assert np.array_equal(shared_rows(SingleProcess(), 11, 4, compute), values)


def test_a_global_batch_smaller_than_the_processes_is_a_setting_error():
    two = ThreadWorld(2).rank_view(0)
    with pytest.raises(SettingError, match="--batch-size 1 is the global batch: it must be at "
                                           "least the 2 processes"):
        RunSettings(model="lstm", model_settings={"batch_size": 1}, comm=two)
    assert RunSettings(model="lstm", model_settings={"batch_size": 2}, comm=two).comm is two


def test_more_than_one_process_without_mpi4py_is_one_line(tmp_path):
    code = ("import sys; sys.modules['mpi4py'] = None; from minseq.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, "train", "--model", "lstm", "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env=dict(os.environ, PMI_SIZE="2", PMI_RANK="0",
                                             PYTHONPATH=str(ROOT)))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minseq train: more than one process needs "
                                                   "mpi4py")
    assert "pip install 'minseq[mpi]'" in lines[0]
    assert not (tmp_path / "run").exists()


def test_on_the_strict_backend_sums_go_through_host_copies_and_stay_device_arrays():
    """The strict backend's stand-in for NCCL: the buffer summed (or broadcast) in place, a
    device-like array before and after."""
    backend.use_backend("strict")

    def work(comm):
        device = for_arrays(comm)
        sums, root = xp.full(3, comm.rank + 1.0), xp.full(2, float(comm.rank))
        assert device.allreduce(sums) is sums and device.broadcast(root, root=1) is root
        return (type(device).__name__, backend.is_device_array(sums),
                backend.to_numpy(sums).tolist(), backend.to_numpy(root).tolist())
    assert run_ranks(2, work) == [("StagedCommunicator", True, [3.0] * 3, [1.0] * 2)] * 2


def test_the_world_is_one_process_unless_a_launcher_says_more(monkeypatch):
    monkeypatch.setattr(comm_module, "_world", [])
    for name in comm_module.SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert isinstance(comm_module.world(), SingleProcess) and comm_module.leads()
    assert comm_module.for_arrays(comm_module.world()) is comm_module.world()


def test_data_parallel_starts_every_process_from_rank_0_s_parameters():
    nets = [classifier(dropout=0.2) for _ in range(2)]
    for _, p in nets[1].named_parameters():
        p += 1                                         # rank 1's weights differ

    def start(comm):
        net = nets[comm.rank]
        DataParallel(net, comm)
        return net.state_dict(), [m.seed for m in net.modules() if hasattr(m, "_rng")]
    (zero, seeds0), (one, seeds1) = run_ranks(2, start)
    assert all(np.array_equal(zero[k], one[k]) for k in zero)
    assert seeds0 and all(a != b for a, b in zip(seeds0, seeds1))      # streams per rank


@pytest.mark.parametrize("model, scores", [("markov", "score_last"),
                                           ("markov-behaviour", "predict_proba")])
def test_evaluate_deals_the_test_batches_out_and_gives_every_process_one_s_metrics(
        tmp_path, monkeypatch, model, scores):
    """tasks.evaluate of a checkpoint on 2 simulated processes: each scores its batches of 512
    (test users of the next-item pipeline, windows of the classifiers') and gets the metrics
    of one process, exactly."""
    table = generate(n_users=700, n_items=20, seed=0)
    path = tasks.train(table, RunSettings(model=model, out=tmp_path / "run", quiet=True,
                                          comm=SingleProcess()))["checkpoint"]
    cls = {"markov": Markov, "markov-behaviour": MarkovBehaviour}[model]
    scored, score = {}, getattr(cls, scores)

    def spy(self, inputs, *args):                # the rows of each batch, by thread
        scored.setdefault(threading.current_thread().name, []).append(len(inputs))
        return score(self, inputs, *args)

    monkeypatch.setattr(cls, scores, spy)
    alone = tasks.evaluate(table, path, comm=SingleProcess())["metrics"]
    batches = scored.pop(threading.current_thread().name)
    assert len(batches) > 2 and max(batches) == 512
    results = run_ranks(2, lambda comm: tasks.evaluate(table, path, comm=comm)["metrics"])
    assert results == [alone, alone]
    one, two = scored.values()
    assert one and two and sorted(one + two) == sorted(batches)
