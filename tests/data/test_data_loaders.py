"""Loaders: each public format into one event table; bad rows named by file and line."""

import gzip
import os

import pytest

from minseq.data import DataFormatError, load, loaders
from minseq.data.loaders import (load_movielens, load_retailrocket, load_taobao, load_user_item,
                                 sniff)


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


@pytest.mark.parametrize("loader, name, text, bad", [
    (load_taobao, "taobao", TAOBAO, "1,2,3,pv,x\n"),
    (load_retailrocket, "retailrocket", "timestamp,visitorid,event,itemid,transactionid\n"
     "1,2,view,3,\n", "x,2,view,3,\n"),
    (load_movielens, "movielens", "1::2::5::978300760\n", "1::2::5\n"),
    (load_user_item, "user-item", "u1 i1\n", "u2 i2 i3\n")])
def test_each_format_has_its_own_loader_that_refuses_bad_rows_unless_told(tmp_path, loader,
                                                                             name, text, bad):
    path = write(tmp_path, "data", text + bad)
    with pytest.raises(DataFormatError, match=f"data, line {text.count(chr(10)) + 1}: "):
        loader(path)
    t = loader(path, True)
    assert t.meta["format"] == name and t.meta["skipped"] == 1
    assert t.meta["source"] == str(path)


def test_an_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="; known: auto, taobao, retailrocket, movielens, "
                       "user-item$"):
        load(tmp_path / "x", "csv")


def test_a_file_this_process_may_not_read_is_named(tmp_path, monkeypatch):
    """(As root every file is readable: the refusal is simulated.)"""
    path = write(tmp_path, "secret.txt", "1 2\n")
    monkeypatch.setattr(loaders.os, "access", lambda p, mode: False)
    with pytest.raises(DataFormatError, match=r"secret\.txt: cannot be read \(permission "
                       r"denied\)"):
        load(path, "user-item")


@pytest.mark.parametrize("first, fmt", [
    ("1433221332117,257597,view,355908,", "retailrocket"),      # no header: the event column
    ("user_id,item_id,category_id,behavior_type,timestamp", "taobao"),   # its header
    ("1,2,3,pv,4", "taobao"), ("alice B1", "user-item")])
def test_the_first_line_tells_the_format(tmp_path, first, fmt):
    assert sniff(write(tmp_path, "data", first + "\n")) == fmt


@pytest.mark.parametrize("first", ["1,2 3", "1;2;3", "1 2 3", "1,2,3,4,5"])
def test_a_first_line_like_no_format_is_not_guessed(tmp_path, first):
    with pytest.raises(DataFormatError, match="cannot tell its format from its first line"):
        sniff(write(tmp_path, "data", first + "\n"))


def test_sniffing_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.txt: no such file"):
        sniff(tmp_path / "missing.txt")


@pytest.mark.parametrize("gz", [False, True])
def test_a_byte_order_mark_is_dropped_and_a_bad_byte_fails_only_its_row(tmp_path, gz):
    raw = "\ufeff1 5\n".encode("utf-8") + b"2 \xff\xfe x\n3 6\n"
    path = tmp_path / ("log.txt.gz" if gz else "log.txt")
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    t = load(path, "user-item", skip_bad_rows=True)
    assert t.user_vocab[1:].tolist() == [1, 3] and t.user_vocab.dtype.kind == "i"
    assert t.meta["skipped"] == 1
    with pytest.raises(DataFormatError, match="line 2: expected 2 fields, found 3"):
        load(path, "user-item")


def test_a_truncated_gzip_file_is_named(tmp_path):
    path = tmp_path / "log.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"".join(b"%d %d\n" % (u, i) for u in range(200) for i in range(50)))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataFormatError, match=r"log\.txt\.gz: truncated or corrupted \("):
        load(path, "user-item")


def test_times_and_ids_are_read_from_their_columns_and_may_be_negative(tmp_path):
    """(The first field of a Taobao row's first line is a digit, or the line is a header.)"""
    t = load(write(tmp_path, "ub.csv", "4,100,7,pv,-20\n-3,100,7,buy,-10\n"), "taobao")
    assert t.timestamp.tolist() == [-10, -20] and t.user_vocab[1:].tolist() == [-3, 4]
    assert "header" not in t.meta


@pytest.mark.parametrize("row, what", [
    ("x,1,7,pv,10", "user_id 'x' is not an integer"),
    ("1,x,7,pv,10", "item_id 'x' is not an integer"),
    ("1,1,x,pv,10", "category_id 'x' is not an integer"),
    ("1,1,7,pv,x", "timestamp 'x' is not an integer"),
    ("1,1,7,pv,9223372036854775808", "timestamp '9223372036854775808' does not fit in 64 bits"),
    ("1,1,7,pv,-9223372036854775809",
     "timestamp '-9223372036854775809' does not fit in 64 bits")])
def test_a_bad_field_is_named_with_its_column(tmp_path, row, what):
    with pytest.raises(DataFormatError, match=f"ub.csv, line 2: {what}; to skip"):
        load(write(tmp_path, "ub.csv", "1,1,7,pv,10\n" + row + "\n"), "taobao")


def test_a_rating_that_is_not_a_number_is_named(tmp_path):
    with pytest.raises(DataFormatError, match="line 1: Rating 'good' is not a number; to skip"):
        load(write(tmp_path, "ratings.dat", "1::2::good::978300760\n"), "movielens")


def test_the_64_bit_bounds_themselves_load(tmp_path):
    text = "1,1,7,pv,-9223372036854775808\n1,1,7,pv,9223372036854775807\n"
    t = load(write(tmp_path, "ub.csv", text), "taobao")
    assert t.timestamp.tolist() == [-2**63, 2**63 - 1]


def test_a_header_lacking_columns_names_all_of_them_and_the_formats_own(tmp_path):
    path = write(tmp_path, "events.csv", "visitorid,event,transactionid\n2,view,\n")
    with pytest.raises(DataFormatError, match=r"events\.csv, line 1: header lacks column\(s\) "
                       r"itemid, timestamp; the retailrocket format has "
                       r"timestamp,visitorid,event,itemid,transactionid$"):
        load(path, "retailrocket")


def test_a_header_with_more_columns_sets_the_field_count(tmp_path):
    text = ("timestamp,visitorid,event,itemid,transactionid,extra\n"
            "1433221332117,257597,view,355908,,a\n")
    t = load(write(tmp_path, "events.csv", text), "retailrocket")
    assert len(t) == 1 and t.meta["header"].endswith(",extra")


def test_an_unknown_behaviour_lists_the_known_ones(tmp_path):
    with pytest.raises(DataFormatError, match=r"unknown behaviour type 'like'; the taobao "
                       r"format knows pv, buy, cart, fav; to skip"):
        load(write(tmp_path, "ub.csv", "1,2,3,like,11\n"), "taobao")


def test_a_taobao_first_line_starting_with_a_number_is_data_not_a_header(tmp_path):
    with pytest.raises(DataFormatError, match="line 1: item_id 'x' is not an integer"):
        load(write(tmp_path, "ub.csv", "1,x,7,pv,10\n"), "taobao")


def test_an_id_beyond_64_bits_keeps_the_ids_as_text(tmp_path):
    t = load(write(tmp_path, "log.txt", "99999999999999999999 5\n7 5\n"), "user-item")
    assert t.user_vocab[1:].tolist() == ["7", "99999999999999999999"]
    assert t.item_vocab.dtype.kind == "i"
