"""``python -m minseq data``: a summary of a generated log or of a file."""

from minseq.cli import main


def test_synthetic_summary(capsys):
    assert main(["data", "--synthetic", "--users", "50", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "synthetic(seed=1)" in out and "users       50" in out and "purchase" in out


def test_file_summary_with_k_core(tmp_path, capsys):
    path = tmp_path / "log.txt"
    path.write_text("".join(f"{u} {i}\n" for u in range(1, 4) for i in range(1, 6)) + "9 x y\n")
    assert main(["data", str(path), "--format", "user-item", "--skip-bad-rows",
                 "--k-core", "2"]) == 0
    out = capsys.readouterr().out
    assert "16 read, 1 skipped" in out and "events      15" in out


def test_errors_are_one_line(tmp_path, capsys):
    path = tmp_path / "log.txt"
    path.write_text("1 2\n1\n")
    assert main(["data", str(path)]) == 1
    assert "log.txt, line 2: expected 2 fields, found 1" in capsys.readouterr().err
    assert main(["data"]) == 2
    capsys.readouterr()
    assert main(["data", "--synthetic", "--events-per-user", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "events_per_user > 0" in err and "events_per_user=0" in err
