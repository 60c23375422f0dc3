"""A run from the command line, as a new user makes it: train on a Taobao-format file,
recommend for a user, evaluate without repeating a flag; Ctrl-C in the middle of training."""

import json

from command_line import interrupted, interrupted_in_test_evaluation, minseq, taobao_file

from minseq import checkpoint


def test_train_recommend_and_evaluate_without_repeating_a_flag(tmp_path):
    taobao_file(tmp_path / "UserBehavior.csv")
    status, out, err = minseq("train", "--model", "sasrec", "--data", "UserBehavior.csv",
                              "--epochs", "2", "--maxlen", "10", "--d-model", "16", "--seed", "3",
                              "--k", "5", "10", "--metrics-out", "train.json", cwd=tmp_path)
    assert status == 0, err
    assert "checkpoint  out/train/sasrec/run-1/best.npz" in out
    assert "history     out/train/sasrec/run-1/history.csv" in out
    checkpoint = "out/train/sasrec/run-1"                        # the run folder: its best.npz
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
    status, _, err = minseq("evaluate", "m/best.npz", cwd=tmp_path)
    assert status == 0 and err.startswith("warning: ") and err.count("\n") == 1


def test_resume_continues_after_the_saved_epoch(tmp_path):
    taobao_file(tmp_path / "ub.csv")
    common = ["--data", "ub.csv", "--maxlen", "10", "--d-model", "8", "--patience", "9"]
    assert minseq("train", "--model", "gru4rec", *common, "--epochs", "1", "--out", "a",
                  cwd=tmp_path)[0] == 0
    status, _, err = minseq("train", "--resume", "a/best.npz", "--epochs", "3", "--out", "b",
                            cwd=tmp_path)
    assert status == 0, err
    assert "epoch 2/3" in err and "epoch 1/3" not in err
    history = (tmp_path / "b" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3"]   # a's epoch 1, on


def test_ctrl_c_is_one_line_exit_130_and_no_partial_file(tmp_path):
    status, lines, rest = interrupted(      # the first epoch's progress line, then Ctrl-C
        "train", "--model", "sasrec", "--users", "3000", "--epochs", "50", "--patience", "50",
        "--out", "run", cwd=tmp_path, ready="epoch 1/50")
    assert status == 130
    tail = rest.strip().splitlines()[-1]
    assert tail.startswith("minseq train: interrupted at epoch ")
    assert "; best checkpoint at run/best.npz; history.csv and curves.png of the " in tail
    assert "Traceback" not in "".join(lines) + rest
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == \
        ["best.npz", "curves.png", "history.csv", "last.npz"]


def test_ctrl_c_in_the_test_evaluation_after_training_is_one_line_exit_130(tmp_path):
    """Training is over, its files written: Ctrl-C stops the evaluation at once, and the run
    folder keeps them whole (test_distributed.py: the same under mpiexec)."""
    status, rest, run = interrupted_in_test_evaluation(tmp_path)
    assert (status, rest) == (130, "minseq train: interrupted\n")
    assert sorted(p.name for p in run.iterdir()) == \
        ["best.npz", "curves.png", "history.csv", "last.npz"]
    assert "test_metrics" not in checkpoint.read(run / "best.npz")[2]


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
    status, out, err = minseq("recommend", "m/best.npz", "--history", "B003 B004", "-k", "2",
                              cwd=tmp_path)
    assert status == 0, err
    assert out.splitlines()[1].split()[:2] == ["1", "B005"]     # Markov: what follows B004
    status, _, err = minseq("recommend", "m/best.npz", "--history", "B003 nope", cwd=tmp_path)
    assert status == 1 and "item(s) nope not in the checkpoint's vocabulary" in err
    status, _, err = minseq("recommend", "m/best.npz", "--user", "nobody", cwd=tmp_path)
    assert status == 1 and "user nobody is not in" in err and err.count("\n") == 1


def test_the_loss_is_kept_in_the_checkpoint_and_evaluate_says_how_many_users(tmp_path):
    taobao_file(tmp_path / "UserBehavior.csv")
    status, out, err = minseq("train", "--model", "sasrec", "--data", "UserBehavior.csv",
                              "--epochs", "1", "--maxlen", "10", "--d-model", "8",
                              "--loss", "sampled-ce", "--loss-negatives", "4", "--out", "run",
                              cwd=tmp_path)
    assert status == 0, err
    config = checkpoint.read(tmp_path / "run" / "best.npz")[2]
    assert (config["kwargs"]["loss"], config["kwargs"]["loss_negatives"]) == ("sampled-ce", 4)
    status, out, err = minseq("evaluate", "run", cwd=tmp_path)
    assert status == 0, err
    users = len({line.split(",")[0] for line in
                 (tmp_path / "UserBehavior.csv").read_text().split()})
    assert f"users       {users} evaluated" in out and "sampled" in out and "full" in out
