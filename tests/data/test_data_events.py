"""The event table: dense ids with 0 for padding, vocabularies back, per-user sequences."""

import numpy as np
import pytest

from minseq.data import EventTable, from_columns


@pytest.fixture
def table():
    # users 30 and 10, items 7/5/9, given out of order
    return from_columns(user=[30, 10, 30, 10, 30], item=[7, 5, 9, 7, 7],
                        behaviour=[1, 1, 2, 3, 1], timestamp=[5, 2, 3, 1, 9],
                        behaviour_names=("<pad>", "browse", "click", "cart"),
                        category=[100, 200, 100, 100, 100])


def test_ids_are_dense_from_one_in_the_order_of_the_original_ids(table):
    assert table.user_vocab[1:].tolist() == [10, 30]
    assert table.item_vocab[1:].tolist() == [5, 7, 9]
    assert table.n_users == 2 and table.n_items == 3 and table.n_categories == 2
    assert table.user.min() == 1 and table.item.min() == 1


def test_events_are_sorted_by_user_then_time(table):
    assert table.user.tolist() == [1, 1, 2, 2, 2]
    assert table.timestamp.tolist() == [1, 2, 3, 5, 9]
    assert table.item_vocab[table.item].tolist() == [7, 5, 9, 7, 7]
    assert table.behaviour.tolist() == [3, 1, 2, 1, 1]


def test_sequences_offsets_and_positions(table):
    assert table.offsets.tolist() == [0, 2, 5]
    assert [s.tolist() for s in table.sequences("item")] == [[2, 1], [3, 2, 2]]
    assert table.position().tolist() == [0, 1, 0, 1, 2]
    assert table.item[table.user_events(2)].tolist() == [3, 2, 2]


def test_counts_report_what_is_present(table):
    c = table.counts()
    assert c == {"events": 5, "users": 2, "items": 3, "categories": 2,
                 "behaviours": {"browse": 3, "click": 1, "cart": 1}}
    assert "events      5" in table.summary()


def test_select_keeps_ids_and_reindexed_renumbers(table):
    part = table.select(table.user == 2)
    assert part.n_users == 2 and part.lengths().tolist() == [0, 3]
    dense = part.reindexed()
    assert dense.n_users == 1 and dense.user_vocab[1] == 30
    assert dense.item_vocab[dense.item].tolist() == [9, 7, 7]


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="column 'item' has 1 entries, expected 2"):
        EventTable(user=np.array([1, 1]), item=np.array([1]), category=None,
                   behaviour=np.array([1, 1]), timestamp=np.array([0, 1]),
                   user_vocab=np.arange(2), item_vocab=np.arange(2), category_vocab=None,
                   behaviour_names=("<pad>", "x"))


def test_the_columns_get_their_documented_types():
    t = from_columns(user=[1, 1], item=[2, 3], behaviour=np.array([1, 2], np.int8),
                     timestamp=[1.0, 2.0], behaviour_names=("<pad>", "a", "b"), value=[4, 5])
    assert t.timestamp.dtype == t.behaviour.dtype == np.int64 and t.value.dtype == np.float64


def test_a_table_without_categories_counts_none():
    t = from_columns(user=[1], item=[2], behaviour=[1], timestamp=[0],
                     behaviour_names=("<pad>", "x"))
    assert t.counts()["categories"] == 0 and t.n_categories == 0
    assert t.reindexed().category is None


def test_a_selection_and_a_reindexed_table_have_meta_of_their_own(table):
    table.meta["source"] = "here"
    part, dense = table.select(table.user == 2), table.reindexed()
    part.meta["source"] = dense.meta["source"] = "elsewhere"
    assert table.meta == {"source": "here"}


def test_reindexed_renumbers_the_categories_too(table):
    dense = table.select(table.category == 2).reindexed()     # category 200 only: now 1
    assert dense.category.tolist() == [1] and dense.category_vocab[1:].tolist() == [200]
    assert dense.n_categories == 1


def test_the_summary_line_by_line(table):
    table.meta["time_unit"] = "s"
    assert table.summary().splitlines() == [
        "events      5",
        "users       2   items 3   categories 2",
        "behaviours  browse 3 (60.0%), click 1 (20.0%), cart 1 (20.0%)",
        "per user    min 2  median 2  mean 2.5  max 3",
        "time        1 .. 9 s"]


def test_the_summary_counts_only_present_users_and_needs_no_time_unit():
    t = from_columns(user=[1, 2, 2, 3], item=[1, 1, 1, 1], behaviour=[1] * 4,
                     timestamp=[0, 1, 2, 3], behaviour_names=("<pad>", "x"))
    lines = t.select(t.user != 3).summary().splitlines()
    assert lines[3] == "per user    min 1  median 1  mean 1.5  max 2"
    assert lines[4] == "time        0 .. 2 "
    one = t.select(t.user == 1).summary().splitlines()
    assert one[2] == "behaviours  x 1 (100.0%)"
    assert t.select(t.user == 0).summary().splitlines()[2:] == ["behaviours  x 0 (0.0%)"]
