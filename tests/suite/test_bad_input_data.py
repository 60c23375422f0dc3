"""Bad input for the data entry points: every loader format, batching and padding.

A loader names the file and line of a bad row; with ``skip_bad_rows`` it loads every good row
and counts the bad ones. Files as they come in practice (Windows line endings, a byte-order
mark, a truncated .gz) load or fail with a message naming the file.
"""

import gzip

import numpy as np
import pytest

from minseq.data import Batches, DataFormatError, load, next_event_pairs, pad_sequences

# Per format: optional header, good rows (user, item) in file order, a row builder, a bad row.
FORMATS = {
    "taobao": ("", lambda u, i, t: f"{u},{i},7,pv,{1511544000 + t}", "1,100,7,pv,soon"),
    "retailrocket": ("timestamp,visitorid,event,itemid,transactionid\n",
                     lambda u, i, t: f"{1433221332117 + t},{u},view,{i},",
                     "1433221332117,someone,view,355908,"),
    "movielens": ("", lambda u, i, t: f"{u}::{i}::5::{978300760 + t}", "1::1193::five::978300760"),
    "user-item": ("", lambda u, i, t: f"{u} {i}", "1 x y"),
}
GOOD = [(1, 10), (2, 20), (1, 11), (3, 30), (2, 21), (1, 12)]


@pytest.fixture(params=list(FORMATS))
def fmt(request, record_property):
    record_property("entry_point", f"data.load({request.param})")
    return request.param


def text(fmt, bad_at=None, newline="\n"):
    header, row, bad = FORMATS[fmt]
    rows = [row(u, i, t) for t, (u, i) in enumerate(GOOD)]
    if bad_at is not None:
        rows.insert(bad_at, bad)
    return header.replace("\n", newline) + newline.join(rows) + newline


def pairs(table):
    """(original user, original item) of every event, in table order."""
    return sorted(zip(table.user_vocab[table.user].tolist(), table.item_vocab[table.item].tolist()))


def first_data_line(fmt):
    return 1 + bool(FORMATS[fmt][0])


def test_a_bad_row_in_the_middle_names_its_line(tmp_path, fmt):
    path = tmp_path / "log.txt"
    path.write_text(text(fmt, bad_at=3))
    line = first_data_line(fmt) + 3
    with pytest.raises(DataFormatError, match=rf"log\.txt, line {line}: .*skip_bad_rows"):
        load(path, fmt)


def test_skipping_loads_every_good_row_and_counts_the_bad(tmp_path, fmt):
    path = tmp_path / "log.txt"
    header, row, bad = FORMATS[fmt]
    path.write_text(text(fmt, bad_at=2) + bad + "\n")
    t = load(path, fmt, skip_bad_rows=True)
    assert pairs(t) == sorted(GOOD)
    assert t.meta["skipped"] == 2 and t.meta["rows"] == len(GOOD) + 2


def test_windows_line_endings_and_a_byte_order_mark(tmp_path, fmt):
    path = tmp_path / "log.txt"
    path.write_bytes(("\ufeff" + text(fmt, newline="\r\n")).encode("utf-8"))
    assert pairs(load(path, fmt)) == sorted(GOOD)


def test_gzip_gives_the_plain_result(tmp_path, fmt):
    path = tmp_path / "log.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write(text(fmt))
    assert pairs(load(path, fmt)) == sorted(GOOD)


def test_a_truncated_gzip_names_the_file(tmp_path, fmt):
    path = tmp_path / "log.txt.gz"
    data = gzip.compress(text(fmt).encode() * 50)
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(DataFormatError, match=r"log\.txt\.gz.*(truncated|corrupted)"):
        load(path, fmt)


def test_binary_garbage_is_a_named_error(tmp_path, fmt):
    path = tmp_path / "log.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataFormatError, match=r"log\.txt"):
        load(path, fmt)


def test_no_rows(tmp_path, fmt):
    path = tmp_path / "log.txt"
    path.write_text(FORMATS[fmt][0])  # the header, if the format has one
    said = r"no events \(only a header line\)" if FORMATS[fmt][0] else "empty file"
    with pytest.raises(DataFormatError, match=rf"log\.txt: {said}$"):
        load(path, fmt)


def test_a_folder_is_not_a_file(tmp_path, fmt):
    with pytest.raises(DataFormatError, match="is a folder, not a data file"):
        load(tmp_path, fmt)


# -- batching and padding ---------------------------------------------------------------------
@pytest.fixture
def batches(record_property):
    record_property("entry_point", "data.Batches")


def test_batches_of_one_give_every_row_once(batches):
    x = np.arange(12).reshape(6, 2)
    seen = [b[0] for b in Batches(x, x[:, 0], batch_size=1, seed=3)]
    assert all(b.shape == (1, 2) for b in seen)
    assert sorted(int(b[0, 0]) for b in seen) == [0, 2, 4, 6, 8, 10]


def test_batches_refuse_mismatched_rows_and_a_zero_size(batches):
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="Batches: targets has 3 rows, inputs has 4"):
        Batches(x, x[:3])
    with pytest.raises(ValueError, match="Batches: mask has 5 rows, inputs has 4"):
        Batches(x, x, np.ones((5, 2), bool))
    with pytest.raises(ValueError, match="Batches: batch_size must be at least 1, got 0"):
        Batches(x, x, batch_size=0)


def test_no_rows_give_no_batches(batches):
    x = np.zeros((0, 3))
    assert list(Batches(x, x)) == [] and len(Batches(x, x, drop_last=True)) == 0


def test_pad_sequences_edges(record_property):
    record_property("entry_point", "data.pad_sequences")
    out, mask = pad_sequences([[1, 2, 3], [4], []], maxlen=2)
    assert out.tolist() == [[2, 3], [4, 0], [0, 0]]
    assert mask.tolist() == [[True, True], [True, False], [False, False]]
    with pytest.raises(ValueError, match="pad_sequences: maxlen must be at least 1, got 0"):
        pad_sequences([[1]], maxlen=0)
    with pytest.raises(ValueError, match="padding and truncating must be 'pre' or 'post'"):
        pad_sequences([[1]], padding="middle")


def test_next_event_pairs_drop_sequences_too_short(record_property):
    record_property("entry_point", "data.next_event_pairs")
    x, y, m = next_event_pairs([np.array([5]), np.array([1, 2, 3])], maxlen=3)
    assert x.tolist() == [[1, 2, 0]] and y.tolist() == [[2, 3, 0]]
    assert m.tolist() == [[True, True, False]]
