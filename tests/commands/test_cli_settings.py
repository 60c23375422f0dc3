"""Every bad setting is one line on stderr before any work starts: the real command line, run
in a subprocess, names the option and what it accepts, exits 2 (1 for a checkpoint that does
not fit the data), prints no traceback and writes nothing."""

import pytest

from command_line import minseq

TAOBAO_VIEWS = "".join(f"{u},{100 + i},7,{'pv' if i % 2 else 'cart'},{10 + i}\n"
                       for u in (1, 2, 3) for i in range(4))
USER_ITEM = "".join(f"{u} {i}\n" for u in (1, 2, 3) for i in range(1, 5))


def files(tmp_path):
    (tmp_path / "v.csv").write_text(TAOBAO_VIEWS)
    (tmp_path / "log.txt").write_text(USER_ITEM)
    (tmp_path / "a_file").write_text("")
    return tmp_path


# train's flags | what the one line says
CASES = """
--model sasrec --epochs 0                       | --epochs must be an integer >= 1, got 0
--model lstm --epochs 0                         | --epochs must be an integer >= 1, got 0
--model sasrec --maxlen 0                       | --maxlen must be an integer >= 1
--model gru4rec --batch-size 0                  | --batch-size must be an integer >= 1
--model lstm --lr -1                            | --lr must be a finite number > 0, got -1.0
--model lstm --hidden 0                         | --d-model must be an integer >= 1, got 0
--model sasrec --dropout 1.5                    | --dropout must be a number in [0, 1), got 1.5
--model sasrec --heads 3                        | --num-heads 3 must divide --d-model 50
--model transformer --d-model 10 --heads 4      | --num-heads 4 must divide --d-model 10
--model sasrec --k 5 0                          | --k must be one or more integers >= 1, got 5 0
--model sasrec --negatives -1                   | --negatives must be an integer >= 0
--model sasrec --loss bpr                       | --loss: invalid choice 'bpr'; choose from bce
--model sasrec --loss-negatives 0               | --loss-negatives must be an integer >= 1
--model sasrec --gbce-t 2                       | --gbce-t must be a number in [0, 1], got 2.0
--model pop --threads 0                         | --threads must be an integer >= 1, got 0
--model sasrec --task will-purchase             | sasrec is a next-item model
--model lstm --data log.txt                     | --task next-behaviour needs at least 2 behav
--model lstm --task will-purchase --data v.csv  | --task will-purchase needs a 'purchase' beh
--model pop --out a_file/run                    | --out a_file/run: cannot write there
--model pop --out a_file                        | --out a_file is a file, expected a folder
--model pop --metrics-out a_file/m.json         | --metrics-out a_file/m.json: cannot write th
--model pop --metrics-out .                     | --metrics-out . is a folder
--model pop --out /proc/nope                    | --out /proc/nope: cannot write there
--model pop --metrics-out /proc/x.json          | --metrics-out /proc/x.json: cannot write there
--model pop --data .                            | --data . is a folder, not a data file
--model pop --data nothing.txt                  | --data nothing.txt: no such file
--epochs 3                                      | --model is required
--model lstm --task churn --churn-days 0        | --churn-days must be a finite number > 0
--model lstm --folds 0                          | --folds must be at least 1, got 0
--model lstm --grid d_model                     | --grid: 'd_model' is not NAME=VALUE
--model sasrec --dropout 1                      | --dropout must be a number in [0, 1), got 1.0
--model lstm --lr 0                             | --lr must be a finite number > 0, got 0.0
--model lstm --lr inf                           | --lr must be a finite number > 0, got inf
--model lstm --clip 0                           | --clip must be a finite number > 0, got 0.0
--model sasrec --heads 0                        | --num-heads must be an integer >= 1, got 0
--model sasrec --layers 0                       | --num-layers must be an integer >= 1, got 0
--model lstm --patience 0                       | --patience must be an integer >= 1, got 0
--model pop --users 0                           | --users must be an integer >= 1, got 0
--model pop --items 0                           | --items must be an integer >= 1, got 0
--model sasrec --k 1 1 0                        | --k must be one or more integers >= 1
"""
CASES = dict(line.split("|") for line in CASES.strip().splitlines())


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_train_setting_is_one_line_before_work(tmp_path, case):
    args, message = case.split(), CASES[case].strip()
    status, out, err = minseq("train", *args, cwd=files(tmp_path))
    assert (status, err.count("\n")) == (2, 1), err
    assert err.startswith("minseq train: ") and message in err, err
    assert "Traceback" not in err and "epoch" not in out + err.replace("--epochs", "")
    assert not (tmp_path / "out").exists()


def test_every_setting_exactly_at_its_bound_is_accepted(tmp_path):
    """The smallest value each setting accepts (0 for --dropout and --negatives, one for the
    counts, the least positive float for rates), all at once: the only complaint is then the
    missing data file, which is checked after the settings."""
    status, _, err = minseq(
        "train", "--model", "sasrec", "--epochs", "1", "--batch-size", "1", "--maxlen", "1",
        "--d-model", "1", "--heads", "1", "--layers", "1", "--patience", "1", "--negatives",
        "0", "--threads", "1", "--lr", "5e-324", "--clip", "5e-324", "--dropout", "0",
        "--churn-days", "5e-324", "--k", "1", "--folds", "1", "--users", "1", "--items", "1",
        "--data", "nothing.txt", cwd=tmp_path)
    assert (status, err) == (2, "minseq train: --data nothing.txt: no such file\n")
    status, _, err = minseq("train", "--model", "sasrec", "--dropout", "0.999", "--data",
                            "nothing.txt", cwd=tmp_path)
    assert (status, err) == (2, "minseq train: --data nothing.txt: no such file\n")


def test_recommend_takes_one_item_and_no_fewer(tmp_path):
    status, _, err = minseq("recommend", "nothing.npz", "--user", "1", "-k", "0", cwd=tmp_path)
    assert (status, err) == (2, "minseq recommend: --top must be an integer >= 1, got 0\n")
    status, _, err = minseq("recommend", "nothing.npz", "--user", "1", "-k", "1", cwd=tmp_path)
    assert (status, err) == (1, "minseq recommend: checkpoint nothing.npz: no such file\n")


def test_a_bad_minseq_threads_is_one_line(tmp_path):
    status, _, err = minseq("train", "--model", "pop", cwd=tmp_path, env={"MINSEQ_THREADS": "x"})
    assert (status, err) == (2, "minseq train: MINSEQ_THREADS must be an integer >= 1, got 'x'\n")


def test_evaluate_with_a_checkpoint_that_does_not_fit_the_data(tmp_path):
    files(tmp_path)
    status, _, err = minseq("train", "--model", "pop", "--data", "synthetic", "--users", "30",
                            "--items", "40", "--out", "pop", "--quiet", cwd=tmp_path)
    assert status == 0, err
    for args, message in ((["--items", "50"], "was trained on 40 items, the data has 50"),
                          (["--data", "log.txt"], "was trained on 40 items, the data has 4"),
                          (["--data", "."], "--data . is a folder")):
        status, _, err = minseq("evaluate", "pop/best.npz", *args, cwd=tmp_path)
        assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
        assert status == (2 if "folder" in message else 1)
    status, _, err = minseq("evaluate", "a_file", cwd=tmp_path)
    assert status == 1 and err.startswith("minseq evaluate: checkpoint a_file") \
        and err.count("\n") == 1


# a command line on a file that is empty, foreign or bad | what its one line says (exit 1)
FILE_CASES = """
data empty.txt                           | minseq data: empty.txt: empty file
train --model pop --data empty.txt       | minseq train: empty.txt: empty file
train --model pop --data bad.csv         | bad.csv, line 13: unknown behaviour type 'zz'; the taobao format knows pv, buy, cart, fav; to skip such rows, pass --skip-bad-rows (in Python: skip_bad_rows=True)
evaluate notes.txt                       | minseq evaluate: checkpoint notes.txt: not a minseq checkpoint
recommend notes.txt --user 1             | minseq recommend: checkpoint notes.txt: not a minseq checkpoint
train --resume notes.txt                 | minseq train: checkpoint notes.txt: not a minseq checkpoint
evaluate empty.txt                       | minseq evaluate: checkpoint empty.txt: empty file
"""
FILE_CASES = dict(line.split("|") for line in FILE_CASES.strip().splitlines())


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_an_empty_foreign_or_bad_file_is_named_for_what_it_is(tmp_path, case):
    """Said in the command line's words: "empty file", "not a minseq checkpoint" (not NumPy's
    advice about pickles), the flag that skips bad rows (not the Python keyword alone)."""
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "notes.txt").write_text("a text file\n")
    (tmp_path / "bad.csv").write_text(TAOBAO_VIEWS + "1,100,7,zz,99\n")
    status, out, err = minseq(*case.split(), cwd=tmp_path)
    assert (status, err.count("\n")) == (1, 1) and FILE_CASES[case].strip() in err, err
    assert "pickle" not in err and not (tmp_path / "out").exists()
