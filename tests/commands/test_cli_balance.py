"""A classifier run on a small real-sized log, from the command line: every split's windows
are counted and their classes checked right after windowing, before any training; a split of
one class is one line naming the counts and what to change; cross-validation is bounded by the
users, names each fold, and keeps each finished fold's metrics through Ctrl-C."""

import csv
import re

from command_line import interrupted, minseq

DAY = 86400


def taobao_days(path, users=40, churners=(), days=9):
    """A Taobao UserBehavior CSV over ``days`` days (the real log's span), three events a day
    per user (views, carts, purchases); the ``churners`` are seen on the first day only, so at
    every cut they are the only users who go silent."""
    rows = []
    for u in range(1, users + 1):
        for d in range(1 if u in churners else days):
            for hour, kind in ((9, "pv"), (13, "pv" if (u + d) % 3 else "cart"),
                               (20, "buy" if (u + d) % 4 == 0 else "pv")):
                rows.append(f"{1000 + u},{500 + (7 * u + d) % 50},{3 + u % 5},{kind},"
                            f"{1511539200 + d * DAY + hour * 3600 + u}")
    path.write_text("\n".join(rows) + "\n")
    return path


CHURN = ["train", "--model", "lstm", "--task", "churn", "--data", "ub.csv", "--d-model", "8"]


def test_a_split_of_one_class_is_one_line_before_training(tmp_path):
    """One churner among 40 users: at most one split holds them, so the others hold one class
    (the README's churn command on Taobao's sample ended in a KeyError after an epoch, and at 2
    churn days the test AUC was silently left out)."""
    taobao_days(tmp_path / "ub.csv", churners=(7,))
    for days in ("7", "2"):
        status, out, err = minseq(*CHURN, "--churn-days", days, "--out", "run", cwd=tmp_path)
        assert (status, err.count("\n")) == (2, 1), err
        assert re.fullmatch(r"minseq train: --task churn: the (train|valid|test) split \(\d+ "
                            r"users\) has \d+ windows: \d+ stay, 0 churn; every split needs two "
                            rf"classes or more: use a log with more users, or other "
                            rf"--churn-days \(now {days}\)\n", err), err
        assert "epoch" not in err and not (tmp_path / "run").exists()


def test_a_run_says_its_data_splits_windows_and_size_then_tests(tmp_path):
    taobao_days(tmp_path / "ub.csv", churners=range(1, 41, 2))
    status, out, err = minseq(*CHURN, "--churn-days", "2", "--epochs", "1", cwd=tmp_path)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "data      ub.csv: 40 users, 600 events, 50 items"
    assert lines[1] == "split     by user: train 28, valid 6, test 6 users"
    assert re.fullmatch(r"windows   train \d+ \(\d+ stay, \d+ churn\); valid \d+ \(\d+ stay, "
                        r"\d+ churn\); test \d+ \(\d+ stay, \d+ churn\)", lines[2]), lines[2]
    assert re.fullmatch(r"model     lstm: [\d,]+ parameters", lines[3]), lines[3]
    table = lines[lines.index("") + 1:]
    assert table[0].split() == ["metric", "test"]
    assert [row.split()[0] for row in table[1:6]] == ["auc", "pr_auc", "f1@0.5", "f1@valid",
                                                      "threshold"]


def test_folds_are_bounded_by_the_users_before_any_work(tmp_path):
    taobao_days(tmp_path / "ub.csv", churners=range(1, 41, 2))
    status, out, err = minseq(*CHURN, "--folds", "35", "--out", "run", cwd=tmp_path)
    assert (status, err) == (2, "minseq train: --folds 35 is more than the 34 users outside the "
                                "test split (each fold validates users of its own); give "
                                "--folds 34 or fewer\n")
    assert not (tmp_path / "run").exists()


def test_ctrl_c_in_cross_validation_keeps_the_finished_folds(tmp_path):
    """The first candidate's two folds finish (one epoch each); the second's cannot (100000
    epochs): Ctrl-C once its first progress line shows keeps both finished folds' metrics."""
    taobao_days(tmp_path / "ub.csv", churners=range(1, 41, 2))
    status, lines, rest = interrupted(*CHURN, "--folds", "2", "--grid", "epochs=1,100000",
                                      "--patience", "100000", "--out", "run", cwd=tmp_path,
                                      ready="candidate 2/2 fold 1/2  epoch 1/100000")
    assert status == 130
    assert [line.split("epoch")[0] for line in lines] == \
        ["candidate 1/2 fold 1/2  ", "candidate 1/2 fold 2/2  ", "candidate 2/2 fold 1/2  "]
    assert rest.strip().splitlines()[-1].endswith(
        "; no checkpoint saved yet; the metrics of the 2 finished fold(s) in run/folds.csv")
    with open(tmp_path / "run" / "folds.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["settings"], r["fold"]) for r in rows] == [("epochs=1", "1"), ("epochs=1", "2")]
    assert all(0 <= float(r["auc"]) <= 1 for r in rows)
