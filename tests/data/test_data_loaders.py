"""Loaders: each public format into one event table; bad rows named by file and line."""

import gzip
import os

import pytest

from minseq.data import DataFormatError, load


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


TAOBAO = "1,100,7,pv,1511544070\n1,100,7,cart,1511544090\n2,200,8,pv,1511544000\n" \
         "1,100,7,buy,1511544100\n2,300,7,fav,1511544001\n"


def test_taobao_csv(tmp_path):
    t = load(write(tmp_path, "UserBehavior.csv", TAOBAO), "taobao")
    assert (t.n_users, t.n_items, t.n_categories, len(t)) == (2, 3, 2, 5)
    names = [t.behaviour_names[b] for b in t.behaviour]
    assert names == ["browse", "cart", "purchase", "browse", "favourite"]
    assert t.item_vocab[t.item].tolist() == [100, 100, 100, 200, 300]
    assert t.category_vocab[t.category].tolist() == [7, 7, 7, 8, 7]
    assert t.meta["rows"] == 5 and t.meta["skipped"] == 0 and t.meta["time_unit"] == "s"


def test_taobao_with_a_header_and_gzip(tmp_path):
    path = tmp_path / "ub.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("user_id,item_id,category_id,behavior_type,timestamp\n" + TAOBAO)
    assert len(load(path, "taobao")) == 5


def test_retailrocket_finds_columns_by_header_name(tmp_path):
    text = ("timestamp,visitorid,event,itemid,transactionid\n"
            "1433221332117,257597,view,355908,\n"
            "1433224214164,257597,addtocart,355908,\n"
            "1433221999827,111016,transaction,248676,4000\n")
    t = load(write(tmp_path, "events.csv", text), "retailrocket")
    assert t.user_vocab[1:].tolist() == [111016, 257597]
    assert [t.behaviour_names[b] for b in t.behaviour] == ["purchase", "browse", "cart"]
    assert t.meta["time_unit"] == "ms"


def test_movielens_ratings(tmp_path):
    t = load(write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n"
                   "2::1193::4::978298413\n"), "movielens")
    assert t.value.tolist() == [5.0, 3.0, 4.0] and t.behaviour_names == ("<pad>", "rate")
    assert t.category is None and t.n_categories == 0


def test_user_item_lines_keep_file_order_per_user(tmp_path):
    t = load(write(tmp_path, "log.txt", "1 5\n2 9\n1 3\n\n1 5\n"), "user-item")
    assert [t.item_vocab[s].tolist() for s in t.sequences()] == [[5, 3, 5], [9]]
    assert t.timestamp.tolist() == [1, 3, 5, 2]  # line numbers


def test_a_malformed_row_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "log.txt", "1 5\n2 x y\n3 4\n")
    with pytest.raises(DataFormatError, match=r"log\.txt, line 2: expected 2 fields, found 3"):
        load(path, "user-item")


def test_skipping_bad_rows_counts_them(tmp_path):
    path = write(tmp_path, "ub.csv", TAOBAO + "3,1,1,pv\n3,1,1,pv,zz\n3,1,1,pv,17\n")
    t = load(path, "taobao", skip_bad_rows=True)
    assert len(t) == 6 and t.meta["skipped"] == 2 and t.meta["rows"] == 8


def test_too_few_fields_is_an_error(tmp_path):
    with pytest.raises(DataFormatError, match=r"line 1: expected 4 fields, found 3"):
        load(write(tmp_path, "ratings.dat", "1::2::5\n"), "movielens")


def test_unknown_behaviour_type(tmp_path):
    with pytest.raises(DataFormatError, match=r"line 2: unknown behaviour type 'like'.*pv"):
        load(write(tmp_path, "ub.csv", "1,2,3,pv,10\n1,2,3,like,11\n"), "taobao")


def test_a_header_missing_a_column(tmp_path):
    path = write(tmp_path, "events.csv", "timestamp,visitorid,event,transactionid\n1,2,view,\n")
    with pytest.raises(DataFormatError, match="header lacks column.*itemid"):
        load(path, "retailrocket")


def test_empty_file_and_no_valid_rows(tmp_path):
    with pytest.raises(DataFormatError, match="empty file"):
        load(write(tmp_path, "empty.txt", ""), "user-item")
    with pytest.raises(DataFormatError, match=r"no events \(1 bad rows skipped\)"):
        load(write(tmp_path, "bad.txt", "a b c\n"), "user-item", skip_bad_rows=True)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        load(tmp_path / "x", "csv")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "missing.txt", "user-item")


def test_string_ids_map_to_dense_ids_and_stay_in_the_vocabulary(tmp_path):
    t = load(write(tmp_path, "log.txt", "alice B2\nbob 7\nalice B1\n"), "user-item")
    assert t.user_vocab[1:].tolist() == ["alice", "bob"]
    assert [t.item_vocab[s].tolist() for s in t.sequences()] == [["B2", "B1"], ["7"]]


def test_integer_ids_stay_integers(tmp_path):
    t = load(write(tmp_path, "log.txt", "10 5\n2 9\n"), "user-item")
    assert t.user_vocab.dtype.kind == "i" and t.user_vocab[1:].tolist() == [2, 10]


@pytest.mark.parametrize("header", ["user item", "user_id item_id", "UserId\tItemId"])
def test_a_user_item_header_is_skipped_with_a_note(tmp_path, header):
    t = load(write(tmp_path, "log.txt", header + "\n1 5\n1 6\n"), "user-item")
    assert len(t) == 2 and t.meta["header"] == header


@pytest.mark.parametrize("fmt, text", [
    ("taobao", TAOBAO), ("movielens", "1::2::5::978300760\n"), ("user-item", "u1 i1\n"),
    ("retailrocket", "timestamp,visitorid,event,itemid,transactionid\n1,2,view,3,\n")])
def test_auto_sniffs_each_format(tmp_path, fmt, text):
    assert load(write(tmp_path, "data", text), "auto").meta["format"] == fmt


def test_a_format_mismatch_suggests_the_format_the_file_looks_like(tmp_path):
    with pytest.raises(DataFormatError, match="did you mean --format taobao"):
        load(write(tmp_path, "ub.csv", TAOBAO), "user-item")
    with pytest.raises(DataFormatError, match="cannot tell its format"):
        load(write(tmp_path, "odd.txt", "1;2;3\n"), "auto")


def test_a_folder_and_an_unreadable_file_have_their_own_messages(tmp_path):
    with pytest.raises(DataFormatError, match="is a folder, not a data file"):
        load(tmp_path, "user-item")
    path = write(tmp_path, "secret.txt", "1 2\n")
    path.chmod(0)
    try:
        if not os.access(path, os.R_OK):     # root reads anything: nothing to check then
            with pytest.raises(DataFormatError, match="cannot be read"):
                load(path, "user-item")
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("fmt", ["auto", "user-item", "taobao"])
@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_a_file_without_a_line_is_an_empty_file_in_any_format(tmp_path, fmt, text):
    with pytest.raises(DataFormatError, match=r"empty\.txt: empty file$"):
        load(write(tmp_path, "empty.txt", text), fmt)


def test_a_header_without_rows_says_so(tmp_path):
    with pytest.raises(DataFormatError, match=r"no events \(only a header line\)"):
        load(write(tmp_path, "log.txt", "user item\n"), "user-item")


def test_an_error_naming_an_option_names_its_flag_and_its_keyword(tmp_path):
    """The loaders are reached from Python and from the command line: an error that says which
    option would help names both spellings."""
    with pytest.raises(DataFormatError, match=r"line 1: .*; to skip such rows, pass "
                       r"--skip-bad-rows \(in Python: skip_bad_rows=True\)"):
        load(write(tmp_path, "bad.txt", "a b c\n"), "user-item")
    with pytest.raises(DataFormatError, match=r"did you mean --format taobao "
                       r"\(in Python: format='taobao'\)\?$"):
        load(write(tmp_path, "ub.csv", TAOBAO), "user-item")
    with pytest.raises(DataFormatError, match=r"pass --format NAME \(in Python: format='NAME'\)"
                       r", NAME one of taobao, retailrocket, movielens, user-item$"):
        load(write(tmp_path, "odd.txt", "1;2;3\n"), "auto")
