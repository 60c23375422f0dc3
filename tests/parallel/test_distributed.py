"""Training on 2 processes under ``mpiexec`` (minseq.parallel.processes) against one process.

Every test starts ``mpiexec -n 2`` (the mpich wheel's, beside this Python) with a timeout, so a
hang fails instead of stalling. Without the ``mpi`` extra they skip; ``make test-mpi`` installs
it and sets MINSEQ_MPI=1, under which a skip is a failure.
"""

import json
import re
import sys

import numpy as np
import pytest

from command_line import interrupted, interrupted_in_test_evaluation, taobao_file
from minseq import checkpoint
from mpi_processes import BIN, environment, run
from paths import ROOT

pytestmark = pytest.mark.mpi

def command(*args):
    """``python -m minseq ARGS`` as a list, for ``run``."""
    return [sys.executable, "-m", "minseq", *args]


#: trains an LSTM classifier through the pipeline and SASRec (negatives given with each batch)
#: through the Trainer, float64, dropout 0, a global batch of 7 (4 + 3 rows); process 0 writes
#: their parameters and metrics to OUT (the LSTM's run folder: OUT/lstm)
SCRIPT = '''
import json, sys
from pathlib import Path
import numpy as np
from minseq import backend, tasks
from minseq.data import generate
from minseq.models.sasrec import BETAS, SASRec
from minseq.optim import Adam
from minseq.parallel.comm import world
from minseq.tasks.evaluation import Protocol, evaluate, validation_metrics
from minseq.tasks.next_item import training_batches
from minseq.train import Trainer

out = Path(sys.argv[1])
comm = world()
table = generate(n_users=60, n_items=20, seed=0)
lstm = tasks.train(table, tasks.RunSettings(
    model="lstm", model_settings=dict(epochs=2, batch_size=7, d_model=8, maxlen=6, dropout=0.0,
                                      clip=0.5), dtype="float64", out=out / "lstm", quiet=True))

protocol = Protocol(table, 6, n_negatives=10, seed=0)
b = training_batches(protocol.train_sequences, 6, 7, 0)
negatives = np.random.default_rng(1).integers(1, table.n_items + 1, size=b.targets.shape)
batches = [tuple(backend.asarray(a[lo:lo + 7]) for a in (b.inputs, b.targets, b.mask, negatives))
           for lo in range(0, len(b.inputs), 7)]
backend.manual_seed(0)
net = SASRec(table.n_items, maxlen=6, d_model=8, num_layers=1, dropout=0.0).astype("float64")
untrained = evaluate(net, protocol.test, exclude_seen=True, comm=comm)
trainer = Trainer(net, Adam(net, lr=1e-2, betas=BETAS), clip_norm=0.5, progress=False, comm=comm)
history = trainer.fit(batches, 3, validate=lambda m: validation_metrics(m, protocol.valid,
                                                                       comm=comm))
sasrec = evaluate(net, protocol.test, comm=comm)
if comm.leads:
    np.savez(out / "sasrec.npz", **{k: backend.to_numpy(v) for k, v in net.state_dict().items()})
    (out / "metrics.json").write_text(json.dumps(dict(
        lstm=lstm["metrics"], lstm_history=lstm["history"]["train_loss"],
        sasrec=sasrec, sasrec_history=history["train_loss"], untrained=untrained,
        sasrec_valid=history["sampled ndcg@10"])))
'''


def parameters(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files if f[k].dtype.kind == "f"}


def test_two_processes_train_the_same_lstm_and_sasrec_as_one(mpiexec, tmp_path):
    script = tmp_path / "train_both.py"
    script.write_text(SCRIPT)
    outs = {}
    for n in (1, 2):
        outs[n] = tmp_path / f"n{n}"
        outs[n].mkdir()
        status, _, err = run([sys.executable, str(script), str(outs[n])], n, mpiexec)
        assert status == 0, err
    one, two = (json.loads((outs[n] / "metrics.json").read_text()) for n in (1, 2))
    assert one["lstm"] == two["lstm"] and one["sasrec"] == two["sasrec"]
    assert one["sasrec_valid"] == two["sasrec_valid"]
    assert one["untrained"] == two["untrained"]           # one model: every metric exactly
    np.testing.assert_allclose(two["lstm_history"], one["lstm_history"], rtol=1e-12)
    np.testing.assert_allclose(two["sasrec_history"], one["sasrec_history"], rtol=1e-12)
    for name in ("sasrec.npz", "lstm/best.npz", "lstm/last.npz"):
        a, b = parameters(outs[1] / name), parameters(outs[2] / name)
        assert a.keys() == b.keys() and all(a[k].dtype == np.float64 for k in a)
        assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-10
        assert any(float(np.abs(a[k]).max()) > 0 for k in a)


def test_every_trainable_model_and_task_trains_the_same_on_two_processes(mpiexec, tmp_path):
    """GRU4Rec (full softmax: nothing drawn), and churn with --folds and --grid, from the
    command line: the same metrics as one process."""
    common = ["--users", "60", "--items", "20", "--epochs", "2", "--d-model", "8",
              "--maxlen", "6", "--batch-size", "9", "--dtype", "float64", "--quiet"]
    for extra in (["--model", "gru4rec", "--negatives", "10", "--dropout", "0"],
                  ["--model", "lstm", "--task", "churn", "--dropout", "0", "--folds", "2",
                   "--grid", "lr=1e-2,5e-3"]):
        metrics = []
        for n in (1, 2):
            path = tmp_path / f"{extra[1]}-{n}.json"
            status, _, err = run(command("train", *common, *extra, "--out",
                                        str(tmp_path / f"{extra[1]}-{n}"), "--metrics-out",
                                        str(path)), n, mpiexec)
            assert status == 0, err
            metrics.append(json.loads(path.read_text()))
        for protocol, values in metrics[0]["metrics"].items():
            assert metrics[1]["metrics"][protocol] == pytest.approx(values, rel=1e-10)
        assert ("cross_validation" in metrics[1]) == ("--folds" in extra)


#: each process sums (its rank + 1) over the communicator of its backend and writes to the
#: folder ARGV[1], in a JSON file of its own, its backend, that communicator, the sums and (on
#: CuPy) its GPU
COMMUNICATOR = """
import json, sys
from pathlib import Path
from minseq import backend
from minseq.backend import xp
from minseq.parallel.comm import for_arrays, world
comm = for_arrays(world())
sums = comm.allreduce(xp.full(3, comm.rank + 1.0))
device = int(xp.cuda.Device().id) if backend.get_backend() == "cupy" else None
(Path(sys.argv[1]) / f"rank-{comm.rank}.json").write_text(json.dumps(dict(
    rank=comm.rank, backend=backend.get_backend(), comm=type(comm).__name__,
    sums=backend.to_numpy(sums).tolist(), device=device)))
"""

#: the communicator that sums each backend's arrays (minseq.parallel.comm.for_arrays)
SUMS_BY = {"numpy": "MPICommunicator", "strict": "StagedCommunicator",
           "cupy": "NCCLCommunicator"}


def test_each_process_sums_over_the_communicator_of_its_backend(mpiexec, tmp_path):
    """MINSEQ_MPI_BACKEND (make test-gpu: cupy; its dry run: strict) reaches the processes:
    on CuPy, process r computes on GPU r and sums over NCCL."""
    script = tmp_path / "sums.py"
    script.write_text(COMMUNICATOR)
    status, _, err = run([sys.executable, str(script), str(tmp_path)], 2, mpiexec)
    assert status == 0, err
    chosen = environment().get("MINSEQ_BACKEND") or "numpy"
    said = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert said == [dict(rank=r, backend=chosen, comm=SUMS_BY[chosen], sums=[3.0, 3.0, 3.0],
                         device=r if chosen == "cupy" else None) for r in (0, 1)]


def readme_command():
    """The README's ``mpiexec -n 2 ... train`` line."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines()
             if line.startswith(".venv/bin/mpiexec -n 2 ") and " train " in line]
    assert len(lines) == 1, lines
    return lines[0].replace(".venv/bin/", str(BIN) + "/").split()


def test_the_readme_command_trains_one_run_folder_that_evaluate_reads_and_resume_continues(
        mpiexec, tmp_path):
    """Process 0 alone says what it trains on, prints the progress lines and writes the run
    folder; evaluate reads the folder; --resume continues it in place, on 2 processes."""
    command_line = readme_command()
    assert command_line[0] == mpiexec
    folder = tmp_path / "run"
    command_line = command_line[3:] + ["--users", "60", "--items", "20", "--d-model", "8",
                                       "--maxlen", "6", "--out", str(folder)]
    status, out, err = run(command_line, 2, mpiexec)
    assert status == 0, err
    assert re.search(r"epoch 1/2 .* on 2 processes", err)
    assert err.count("epoch 1/2") == 1 and out.count("checkpoint") == 1     # process 0 alone
    assert out.count("data      ") == 1 and out.count("model     lstm") == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        "best.npz", "curves.png", "history.csv", "last.npz"]
    status, out, err = run([str(BIN / "minseq"), "evaluate", str(folder)])
    assert status == 0, err
    assert "accuracy" in out
    status, out, err = run(command("train", "--resume", str(folder), "--epochs", "3"), 2,
                           mpiexec)
    assert status == 0, err
    assert err.count("epoch 3/3") == 1 and "epoch 2/3" not in err
    epochs = [line.split(",")[0] for line in (folder / "history.csv").read_text().splitlines()]
    assert epochs == ["epoch", "1", "2", "3"]
    assert checkpoint.read(folder / "last.npz")[2]["epoch"] == 3


def test_evaluate_on_two_processes_prints_what_one_process_prints(mpiexec, tmp_path):
    """A checkpoint of every pipeline (next-item: sampled and full; the classifier tasks;
    churn and its threshold), trained here in one process: ``mpiexec -n 2 ... evaluate``
    shares the scoring and prints, once, the same table and metrics file as one process."""
    common = ["--users", "60", "--items", "20", "--epochs", "1", "--d-model", "8",
              "--maxlen", "6", "--quiet"]
    for name, extra in (("sasrec", ["--model", "sasrec", "--negatives", "10"]),
                        ("next-behaviour", ["--model", "lstm"]),
                        ("will-purchase", ["--model", "lstm", "--task", "will-purchase"]),
                        ("churn", ["--model", "lstm", "--task", "churn"])):
        folder = tmp_path / name
        status, _, err = run(command("train", *common, *extra, "--out", str(folder)))
        assert status == 0, err
        printed, metrics = [], []
        for n in (1, 2):
            status, out, err = run(command("evaluate", str(folder), "--metrics-out",
                                           str(tmp_path / "metrics.json")), n, mpiexec)
            assert status == 0, err
            printed.append((out, err))
            metrics.append(json.loads((tmp_path / "metrics.json").read_text())["metrics"])
        assert printed[1] == printed[0] and metrics[1] == metrics[0], name
        assert printed[1][0].count("metric ") == 1


def test_evaluate_on_two_processes_warns_once_that_the_data_changed(mpiexec, tmp_path):
    path = taobao_file(tmp_path / "ub.csv")
    status, _, err = run(command("train", "--model", "markov", "--data", str(path), "--out",
                                 str(tmp_path / "m")))
    assert status == 0, err
    path.write_text(path.read_text().replace(",pv,", ",cart,", 1))
    status, _, err = run(command("evaluate", str(tmp_path / "m")), 2, mpiexec)
    assert status == 0 and err.startswith("warning: ") and err.count("\n") == 1, err


def test_a_global_batch_smaller_than_the_processes_is_one_line(mpiexec, tmp_path):
    status, out, err = run(command("train", "--model", "lstm", "--batch-size", "1", "--out",
                                  str(tmp_path / "run")), 2, mpiexec)
    assert status == 2
    assert err.strip().splitlines() == [
        "minseq train: --batch-size 1 is the global batch: it must be at least the 2 "
        "processes, one row each"]
    assert not (tmp_path / "run").exists()


#: a classifier whose data has one bad row (behaviour id 99) among process 1's rows of the
#: first batch; process 0 says the run's error in one line, as the command line does
BAD_ROW = '''
import sys
from pathlib import Path
import numpy as np
from minseq import optim
from minseq.data import Batches
from minseq.models import LSTMClassifier
from minseq.parallel.comm import world
from minseq.parallel.processes import ProcessFailed
from minseq.train import Trainer

out = Path(sys.argv[1])
x = np.random.default_rng(0).integers(1, 4, size=(12, 5))
x[5, 2] = 99                                    # rows 3..5 of the first batch: process 1's
y, mask = np.ones(12, dtype=np.int64), np.ones((12, 5), dtype=bool)
net = LSTMClassifier(n_behaviours=3, n_classes=3, d_model=4, embed_dim=4)
trainer = Trainer(net, optim.Adam(net), progress=False, comm=world())
try:
    trainer.fit(Batches(x, y, mask, batch_size=6, shuffle=False), 2,
                checkpoint_path=out / "best.npz")
except (IndexError, ProcessFailed) as exc:
    if world().leads:
        print(f"minseq train: {exc}", file=sys.stderr)
    sys.exit(1)
'''


def test_a_process_that_fails_stops_every_process_with_its_message(mpiexec, tmp_path):
    script = tmp_path / "bad_row.py"
    script.write_text(BAD_ROW)
    status, _, err = run([sys.executable, str(script), str(tmp_path)], 2, mpiexec)
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minseq train: process 1 of 2: ")
    assert "99" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad_row.py"]


def test_ctrl_c_under_mpiexec_keeps_the_checkpoints_whole_and_the_history(mpiexec, tmp_path):
    """Ctrl-C once the first epoch's line shows (its checkpoints and history.csv are written
    before it): every process stops after the same step, and process 0 keeps best.npz,
    last.npz, history.csv and the curves, whole."""
    out = tmp_path / "run"
    status, _, err = interrupted(
        "train", "--model", "lstm", "--users", "60", "--items", "20", "--d-model", "8",
        "--maxlen", "6", "--epochs", "1000", "--patience", "1000", "--out", str(out),
        cwd=tmp_path, ready="epoch 1/1000", program=[mpiexec, "-n", "2", *command()],
        env=environment())
    assert status == 130, err
    assert re.search(r"minseq train: interrupted at epoch \d+; best checkpoint at .*best\.npz; "
                     r"history\.csv and curves\.png of the \d+ finished epoch\(s\) in ", err), err
    assert err.count("interrupted at epoch") == 1                          # process 0 alone
    assert checkpoint.read(out / "best.npz")[2]["model"] == "lstm"
    last = checkpoint.read(out / "last.npz")[2]["epoch"]
    epochs = [line.split(",")[0] for line in (out / "history.csv").read_text().splitlines()]
    assert epochs == ["epoch", *map(str, range(1, last + 1))] and (out / "curves.png").is_file()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_in_the_test_evaluation_after_training_stops_every_process_as_one_does(
        mpiexec, tmp_path):
    """Training is over and the processes share the test evaluation (its sums): Ctrl-C stops
    every one after the same sum, with the one line, exit status and whole run folder of one
    process (test_cli_runs.py), and no process waits for ever."""
    status, rest, folder = interrupted_in_test_evaluation(tmp_path, [mpiexec, "-n", "2"],
                                                         environment())
    ours = [line for line in rest.splitlines() if not line.startswith("[mpiexec@")]
    assert (status, ours) == (130, ["minseq train: interrupted"]), rest
    assert sorted(p.name for p in folder.iterdir()) == \
        ["best.npz", "curves.png", "history.csv", "last.npz"]
    assert "test_metrics" not in checkpoint.read(folder / "best.npz")[2]


def test_an_error_no_handler_catches_in_one_process_stops_every_process(mpiexec, tmp_path):
    """Process 1 fails outside any shared step while process 0 waits in a sum: the error is
    reported and every process stops (no hang)."""
    script = tmp_path / "uncaught.py"
    script.write_text("import numpy as np\n"
                      "from minseq.parallel.comm import world\n"
                      "comm = world()\n"
                      "if comm.rank == 1:\n"
                      "    raise RuntimeError('process 1 cannot go on')\n"
                      "comm.allreduce(np.ones(3))\n")
    status, _, err = run([sys.executable, str(script)], 2, mpiexec)
    assert status != 0
    assert "RuntimeError: process 1 cannot go on" in err
