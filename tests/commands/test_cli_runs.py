"""A run from the command line, as a new user makes it: train on a Taobao-format file,
recommend for a user, evaluate without repeating a flag; Ctrl-C in the middle of training."""

import json
import signal
import subprocess
import sys

import numpy as np

from test_cli_settings import ROOT, minseq


def taobao_file(path, users=60, items=40, seed=0):
    """A Taobao UserBehavior CSV: each user walks the items in steps of one, with views, carts
    and purchases, a timestamp per event."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, users + 1):
        start = rng.integers(items)
        for t in range(rng.integers(4, 12)):
            kind = rng.choice(["pv", "pv", "cart", "buy"])
            rows.append(f"{1000 + user},{500 + (start + t) % items},{7 + t % 3},{kind},"
                        f"{1511544000 + 60 * t}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_train_recommend_and_evaluate_without_repeating_a_flag(tmp_path):
    taobao_file(tmp_path / "UserBehavior.csv")
    status, out, err = minseq("train", "--model", "sasrec", "--data", "UserBehavior.csv",
                              "--epochs", "2", "--maxlen", "10", "--d-model", "16", "--seed", "3",
                              "--k", "5", "10", "--metrics-out", "train.json", cwd=tmp_path)
    assert status == 0, err
    assert "checkpoint  out/train/sasrec/run-1/model.npz" in out
    assert "history     out/train/sasrec/run-1/history.csv" in out
    checkpoint = "out/train/sasrec/run-1/model.npz"
    status, out, err = minseq("recommend", checkpoint, "--user", "1001", "-k", "3", cwd=tmp_path)
    assert status == 0, err
    rows = out.splitlines()[1:]
    assert len(rows) == 3 and all(int(r.split()[1]) in range(500, 540) for r in rows)
    seen = {line.split(",")[1] for line in (tmp_path / "UserBehavior.csv").read_text().split()
            if line.startswith("1001,")}
    assert not seen & {r.split()[1] for r in rows}
    status, out, err = minseq("evaluate", checkpoint, "--metrics-out", "again.json",
                              cwd=tmp_path)
    assert status == 0 and err == "", err
    trained = json.loads((tmp_path / "train.json").read_text())["metrics"]
    again = json.loads((tmp_path / "again.json").read_text())["metrics"]
    assert again == trained and "hit@5" in again["sampled"]
    status, _, _ = minseq("train", "--model", "pop", "--data", "UserBehavior.csv", cwd=tmp_path)
    assert status == 0 and (tmp_path / "out/train/pop/run-1").is_dir()
    status, _, err = minseq("train", "--model", "pop", "--data", "UserBehavior.csv",
                            "--metrics-out", "train.json", cwd=tmp_path)   # a file overwritten
    assert status == 0, err
    assert (tmp_path / "out/train/pop/run-2").is_dir()          # runs never overwrite


def test_evaluate_warns_when_the_data_changed(tmp_path):
    path = taobao_file(tmp_path / "ub.csv")
    assert minseq("train", "--model", "markov", "--data", "ub.csv", "--out", "m",
                  cwd=tmp_path)[0] == 0
    path.write_text(path.read_text().replace(",pv,", ",cart,", 1))
    status, _, err = minseq("evaluate", "m/model.npz", cwd=tmp_path)
    assert status == 0 and err.startswith("warning: ") and err.count("\n") == 1


def test_resume_continues_after_the_saved_epoch(tmp_path):
    taobao_file(tmp_path / "ub.csv")
    common = ["--data", "ub.csv", "--maxlen", "10", "--d-model", "8", "--patience", "9"]
    assert minseq("train", "--model", "gru4rec", *common, "--epochs", "1", "--out", "a",
                  cwd=tmp_path)[0] == 0
    status, _, err = minseq("train", "--resume", "a/model.npz", "--epochs", "3", "--out", "b",
                            cwd=tmp_path)
    assert status == 0, err
    assert "epoch 2/3" in err and "epoch 1/3" not in err
    history = (tmp_path / "b" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["2", "3"]


def _sigint_as_at_a_terminal():
    """In the child: Ctrl-C's default action, whatever the test run inherited. A shell script
    that starts `make test &` hands its background job SIGINT ignored; Python then installs no
    KeyboardInterrupt handler, and the command trained all 50 epochs and exited 0."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_is_one_line_exit_130_and_no_partial_file(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "minseq", "train", "--model", "sasrec", "--users", "3000",
         "--epochs", "50", "--patience", "50", "--out", "run"],
        cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": ""},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_sigint_as_at_a_terminal)
    lines = []
    # the ready signal: the first epoch's line, printed once its checkpoint is saved (no
    # sleep: however slow the machine, Ctrl-C comes after the line and before epoch 50)
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("epoch 1/50"):
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, "".join(lines) + rest
    tail = rest.strip().splitlines()[-1]
    assert tail.startswith("minseq train: interrupted at epoch ")
    assert tail.endswith("; best checkpoint at run/model.npz")
    assert "Traceback" not in "".join(lines) + rest
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.npz"]


def test_string_ids_in_and_out_and_bad_rows_counted(tmp_path):
    """A user-item file with string ids, a header and a bad row: the header is noted, the bad
    row counted, and recommend takes and gives raw string ids."""
    walk = [f"B{i:03d}" for i in range(12)]
    rows = [f"u{u} {walk[(u + t) % 12]}" for u in range(20) for t in range(5)]
    (tmp_path / "log.txt").write_text("user item\n" + "\n".join(rows) + "\nu1 B001 extra\n")
    status, _, err = minseq("train", "--model", "markov", "--data", "log.txt",
                            "--skip-bad-rows", "--out", "m", cwd=tmp_path)
    assert status == 0, err
    assert "skipped the header line of log.txt: 'user item'" in err
    assert "skipped 1 bad row(s) of 101 in log.txt" in err
    status, out, err = minseq("recommend", "m/model.npz", "--history", "B003 B004", "-k", "2",
                              cwd=tmp_path)
    assert status == 0, err
    assert out.splitlines()[1].split()[:2] == ["1", "B005"]     # Markov: what follows B004
    status, _, err = minseq("recommend", "m/model.npz", "--history", "B003 nope", cwd=tmp_path)
    assert status == 1 and "item(s) nope not in the checkpoint's vocabulary" in err
    status, _, err = minseq("recommend", "m/model.npz", "--user", "nobody", cwd=tmp_path)
    assert status == 1 and "user nobody is not in" in err and err.count("\n") == 1
