"""A run's folder from the command line: best.npz and last.npz side by side; ``--resume``
continues the run in its folder and its history; a resume with nothing to do says so; a resume
that beats no epoch keeps the best; ``--out`` never replaces another run without
``--overwrite``."""

import json

import pytest

from command_line import minseq, taobao_file

GRU = ["--maxlen", "10", "--d-model", "8", "--patience", "9", "--quiet"]


def epochs_of(folder):
    return [line.split(",")[0] for line in (folder / "history.csv").read_text().splitlines()[1:]]


def test_resume_goes_on_in_the_run_folder(tmp_path):
    taobao_file(tmp_path / "ub.csv")
    assert minseq("train", "--model", "gru4rec", "--data", "ub.csv", *GRU, "--epochs", "1",
                  cwd=tmp_path)[0] == 0
    run = tmp_path / "out/train/gru4rec/run-1"
    assert sorted(p.name for p in run.iterdir()) == \
        ["best.npz", "curves.png", "history.csv", "last.npz"]
    status, out, err = minseq("train", "--resume", "out/train/gru4rec/run-1", "--epochs", "3",
                              cwd=tmp_path)
    assert status == 0, err
    assert "epoch 2/3" in err and "epoch 1/3" not in err
    assert epochs_of(run) == ["1", "2", "3"]
    assert [p.name for p in run.parent.iterdir()] == ["run-1"]          # no stray run-2
    assert "checkpoint  out/train/gru4rec/run-1/best.npz" in out
    # without --epochs: the run's own 3, all done
    status, out, err = minseq("train", "--resume", "out/train/gru4rec/run-1/last.npz",
                              cwd=tmp_path)
    assert (status, out) == (0, "")
    assert err == "minseq train: nothing to do: out/train/gru4rec/run-1/last.npz finished " \
                  "epoch 3 of 3; give --epochs N above 3 to train on\n"


def test_a_resume_that_beats_no_epoch_keeps_the_best(tmp_path):
    """At a learning rate too small to move a float32 weight, no epoch beats the saved best:
    best.npz stays as it was, the test metrics are its, the history goes on."""
    taobao_file(tmp_path / "ub.csv")
    assert minseq("train", "--model", "gru4rec", "--data", "ub.csv", *GRU, "--epochs", "1",
                  "--out", "a", "--metrics-out", "first.json", cwd=tmp_path)[0] == 0
    best = (tmp_path / "a" / "best.npz").read_bytes()
    status, _, err = minseq("train", "--resume", "a", "--epochs", "3", "--lr", "1e-30",
                            "--metrics-out", "again.json", cwd=tmp_path)
    assert status == 0, err
    assert (tmp_path / "a" / "best.npz").read_bytes() == best
    assert epochs_of(tmp_path / "a") == ["1", "2", "3"]
    first, again = (json.loads((tmp_path / f).read_text())["metrics"]
                    for f in ("first.json", "again.json"))
    assert again == first
    # resuming from best.npz (epoch 1) in its own folder would lose epochs 2 and 3
    status, _, err = minseq("train", "--resume", "a/best.npz", "--epochs", "5", cwd=tmp_path)
    assert (status, err) == (2, "minseq train: --resume a/best.npz is epoch 1, but its run went "
                                "on to epoch 3 (a/last.npz); resume from a, or give --out NEW "
                                "to branch from epoch 1\n")


def test_another_process_s_write_probe_is_no_run_in_the_out_folder(tmp_path):
    """Under mpiexec each process probes --out for writing while another may be checking it
    fresh: a probe file there (it lives for a moment) is no other run's file; anything else
    is."""
    from minseq.files import PROBE_PREFIX
    from minseq.tasks.checks import SettingError
    from minseq.tasks.folder import check_fresh
    (tmp_path / f"{PROBE_PREFIX}x1y2").write_text("")
    check_fresh(tmp_path)
    (tmp_path / "history.csv").write_text("")
    with pytest.raises(SettingError, match=r"it holds history.csv\)"):
        check_fresh(tmp_path)


def test_out_refuses_another_run_unless_overwrite(tmp_path):
    taobao_file(tmp_path / "ub.csv")
    assert minseq("train", "--model", "gru4rec", "--data", "ub.csv", *GRU, "--epochs", "1",
                  "--out", "a", cwd=tmp_path)[0] == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    status, out, err = minseq("train", "--model", "pop", "--data", "ub.csv", "--out", "a",
                              cwd=tmp_path)
    assert (status, out) == (2, "")
    assert err == "minseq train: --out a is not empty (it holds best.npz, curves.png, " \
                  "history.csv, last.npz); give a new folder, or --overwrite to replace the " \
                  "run there\n"
    assert {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before
    status, _, err = minseq("train", "--model", "pop", "--data", "ub.csv", "--out", "a",
                            "--overwrite", cwd=tmp_path)
    assert status == 0, err
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["best.npz"]   # nothing of gru4rec
