"""Churn windows: one calendar grid of cuts, features strictly before the cut, the label from
the D days after it, and a clear error for data without times."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minseq.data import BEHAVIOURS, EventTable, from_columns, generate
from minseq.data.churn import N_AGE_BUCKETS, age_bucket, churn_windows, clock
from minseq.data.events import behaviour_vocab

DAY = 86400


def log(events, unit="s"):
    """A table from (user, time, behaviour) triples."""
    user, time, behaviour = zip(*events)
    return from_columns(user=user, item=np.ones(len(user)), behaviour=behaviour,
                        timestamp=time, behaviour_names=behaviour_vocab(BEHAVIOURS),
                        meta={"time_unit": unit})


def test_windows_by_hand():
    """User 1 is active on days 0, 1 and 5, then silent; user 2 on days 0 and 9; the log ends
    on day 10, so with D = 2 the cuts are days 1 .. 8."""
    t = log([(1, 0, 1), (1, DAY + 10, 2), (1, 5 * DAY, 3), (2, 5, 1), (2, 9 * DAY, 1),
             (2, 10 * DAY, 4)])
    w = churn_windows(t, maxlen=2, days=2)
    got = [(int(u), int(c // DAY), int(y)) for u, c, y in zip(w.user, w.cut, w.targets)]
    # active at cut c: an event in [c - 2 days, c); churn: none in [c, c + 2 days), so at
    # day 3 user 1 churns (day 5 is outside [3, 5)), and days 4, 5 and 8 have no one active
    assert got == [(1, 1, 0), (1, 2, 1), (1, 3, 1), (1, 6, 1), (1, 7, 1), (2, 1, 1), (2, 2, 1)]
    first = w.inputs[0]                               # user 1 at day 1: only the event of day 0
    assert first[:, 0].tolist() == [0, 1] and first[1, 1] == age_bucket(np.array(DAY), DAY)
    assert w.mask[0].tolist() == [False, True] and w.events[0].tolist() == [-1, 0]
    assert w.inputs[3][:, 0].tolist() == [2, 3]       # day 6 sees the events of days 1 and 5


def test_events_exactly_at_a_cut_and_at_its_window_edges():
    """With D = 2 days, at cut c: an event at c - D counts as active, an event at c is the
    future (a label of staying, never a feature, and no activity at c), an event at c + D lies
    outside the label's window; and the last cut is exactly the log's end minus D."""
    t = log([(1, 0, 1), (1, 2 * DAY, 2), (2, DAY, 1), (2, 5 * DAY, 1), (3, 7 * DAY, 1),
             (3, 10 * DAY, 1)])
    w = churn_windows(t, maxlen=2, days=2)
    got = [(int(u), int(c // DAY), int(y)) for u, c, y in zip(w.user, w.cut, w.targets)]
    assert got == [(1, 1, 0), (1, 2, 0), (1, 3, 1), (1, 4, 1),   # day 2 is at cut 2: stays
                   (2, 2, 1), (2, 3, 1), (2, 6, 1), (2, 7, 1),   # day 1 at cut 1: inactive
                   (3, 8, 1)]                                    # day 10 = cut 8 + D: churns
    assert w.cut.max() == 10 * DAY - 2 * DAY
    at_cut = got.index((1, 2, 0))
    assert w.events[at_cut].tolist() == [-1, 0]      # reads day 0, not the event at the cut


@st.composite
def logs(draw):
    n = draw(st.integers(1, 30))
    events = [(draw(st.integers(1, 4)), draw(st.integers(0, 20 * DAY)), draw(st.integers(1, 5)))
              for _ in range(n)]
    return log(events), draw(st.integers(1, 4)), draw(st.sampled_from([0.5, 1, 2, 3.5]))


@given(logs())
def test_no_window_reads_an_event_at_or_after_its_cut(case):
    """Checked against a brute force over every (user, cut) pair of the grid: the same
    examples, the same labels, and every event read lies before the cut, of the same user."""
    t, maxlen, days = case
    w = churn_windows(t, maxlen, days)
    read = t.timestamp[np.maximum(w.events, 0)]
    assert (read[w.mask] < np.broadcast_to(w.cut[:, None], read.shape)[w.mask]).all()
    assert (t.user[np.maximum(w.events, 0)][w.mask] == np.repeat(w.user, maxlen)[
        w.mask.ravel()]).all()
    H = int(round(days * DAY))
    first, last = t.timestamp.min(), t.timestamp.max()
    expected = []
    for u in np.unique(t.user):
        times = t.timestamp[t.user == u]
        for c in range(first + DAY, last - H + 1, DAY):
            if ((times >= c - H) & (times < c)).any():
                before = np.flatnonzero(t.user == u)[times < c][-maxlen:]
                expected.append((u, c, not ((times >= c) & (times < c + H)).any(), list(before)))
    got = [(u, c, bool(y), list(e[e >= 0])) for u, c, y, e in
           zip(w.user, w.cut, w.targets, w.events)]
    assert got == expected


def test_age_buckets_grow_with_age_and_stop_at_the_cap():
    ages = np.array([0, 3600, 2 * 3600, DAY, 7 * DAY, 10 ** 9])
    b = age_bucket(ages, DAY)
    assert b[0] == 1 and (np.diff(b) > 0).all() and b[-1] == N_AGE_BUCKETS


def test_a_log_without_times_is_a_clear_error():
    t = log([(1, 0, 1), (1, 1, 1)], unit="line")
    with pytest.raises(ValueError, match="churn needs event times.*user-item format"):
        churn_windows(t, 4)


def test_milliseconds_count_days_too():
    s = log([(1, 0, 1), (1, 5 * DAY, 1), (1, 9 * DAY, 1)])
    ms = log([(1, 0, 1), (1, 5 * DAY * 1000, 1), (1, 9 * DAY * 1000, 1)], unit="ms")
    a, b = churn_windows(s, 3, 2), churn_windows(ms, 3, 2)
    assert a.targets.tolist() == b.targets.tolist() and (a.inputs == b.inputs).all()


def test_synthetic_fading_users_churn_more_and_slow_down():
    """The generator's fading users: their breaks grow, and active cuts of theirs are more
    often followed by silence than the steady users' cuts."""
    t = generate(n_users=600, seed=3)
    fading = np.isin(np.arange(1, t.n_users + 1), t.meta["fading"])
    gaps = [np.diff(s) for s in t.sequences("timestamp")]
    slow = np.array([g[len(g) // 2:].mean() / g[:len(g) // 2].mean() for g in gaps])
    assert np.median(slow[fading]) > 3 * np.median(slow[~fading])
    w = churn_windows(t, 8)
    assert w.targets[fading[w.user - 1]].mean() > w.targets[~fading[w.user - 1]].mean() + 0.1


def test_the_visit_times_leave_items_and_behaviours_alone():
    a, b = generate(80, seed=5), generate(80, seed=5, fading=0.0, break_days=5.0)
    assert (a.item == b.item).all() and (a.behaviour == b.behaviour).all()
    assert (a.timestamp != b.timestamp).any()


def test_age_buckets_by_hand():
    """1 + floor(4 log2(1 + hours)): 0 h -> 1, 1.5 h -> 6, 14.9 h -> 16, 15.1 h -> 17,
    100 h -> 27 (ages away from the buckets' edges)."""
    hours = np.array([0, 1.5, 14.9, 15.1, 100])
    b = age_bucket((hours * 3600).astype(np.int64), DAY)
    assert b.tolist() == [1, 6, 16, 17, 27] and b.dtype == np.int64


def test_the_features_are_the_behaviour_and_the_age_at_the_cut():
    t = log([(1, 0, 1), (1, DAY + 10, 2), (1, 5 * DAY, 3), (2, 5, 1), (2, 9 * DAY, 1),
             (2, 10 * DAY, 4)])
    w = churn_windows(t, maxlen=2, days=2)
    assert w.inputs.dtype == np.int64 and w.targets.dtype == np.float64
    assert w.inputs[0].tolist() == [[0, 0], [1, int(age_bucket(np.array(DAY), DAY))]]
    assert w.inputs[3].tolist() == [[2, int(age_bucket(np.array(5 * DAY - 10), DAY))],
                                    [3, int(age_bucket(np.array(DAY), DAY))]]


def test_a_log_ending_before_the_next_grid_point_has_no_cut_there():
    """The log ends one second before day 10, so with D = 2 the last cut is day 7 (the event of
    day 6.5 is active at days 7 and 8): a cut at
    day 8 could not see its whole label window."""
    t = log([(1, 0, 1), (1, 3 * DAY, 1), (1, 13 * DAY // 2, 1), (1, 10 * DAY - 1, 1)])
    assert churn_windows(t, 2, days=2).cut.max() == 7 * DAY


def brute_force(t, maxlen, days):
    """(user, cut, churned, rows read) of every active (user, cut), by the module's definition."""
    H, first, last = int(round(days * DAY)), t.timestamp.min(), t.timestamp.max()
    out = []
    for u in np.unique(t.user):
        times = t.timestamp[t.user == u]
        for c in range(first + DAY, last - H + 1, DAY):
            if ((times >= c - H) & (times < c)).any():
                before = np.flatnonzero(t.user == u)[times < c][-maxlen:]
                out.append((u, c, not ((times >= c) & (times < c + H)).any(), list(before)))
    return out


@pytest.mark.parametrize("start", [0, -5 * DAY, 1_500_000_000])
def test_users_at_the_clocks_two_ends_keep_their_own_windows(start):
    """One user has the log's first and last events, the next one starts at the first time too
    (the per-user keys must not overlap), at any start of the clock, before 1970 too."""
    t = log([(1, start, 1), (1, start + 3 * DAY, 2), (1, start + 12 * DAY, 3),
             (2, start, 4), (2, start + 2 * DAY, 5), (2, start + 6 * DAY, 1),
             (3, start + DAY // 2, 2), (3, start + 9 * DAY, 3)])
    w = churn_windows(t, 2, days=2)
    got = [(u, c, bool(y), list(e[e >= 0])) for u, c, y, e in
           zip(w.user, w.cut, w.targets, w.events)]
    assert got == brute_force(t, 2, 2) and len(got) > 5


def test_seven_days_by_default_and_bad_arguments():
    t = generate(n_users=40, seed=2)
    w, w7, w8 = churn_windows(t, 3), churn_windows(t, 3, days=7), churn_windows(t, 3, days=8)
    assert (w.cut == w7.cut).all() and (w.targets == w7.targets).all()
    assert len(w.cut) != len(w8.cut) or (w.targets != w8.targets).any()
    with pytest.raises(ValueError, match="maxlen must be at least 1 and days positive, got 0 "
                       "and 7"):
        churn_windows(t, 0)
    with pytest.raises(ValueError, match="days positive, got 3 and 0"):
        churn_windows(t, 3, days=0)


def test_an_empty_table_has_no_clock():
    t = log([(1, 0, 1)])
    with pytest.raises(ValueError, match="^churn: the table has no events$"):
        clock(t.select(t.user == 0))


def test_an_event_a_millisecond_before_the_cut_is_past_even_for_a_late_user_id():
    """Splits keep the whole log's dense ids: here user 2,000,000 of a millisecond log (as large
    as RetailRocket's visitors) has events 1 ms before the cuts of days 60 and 61. Each is read
    as a feature of its cut, never as its future (per-user time keys must stay exact integers:
    as floats, 2e6 users times 120 days of milliseconds round them)."""
    MS, N = 86_400_000, 2_000_000
    t = EventTable(user=np.array([1, N, N, N, N]), item=np.ones(5, np.int64), category=None,
                   behaviour=np.array([1, 2, 3, 4, 5]),
                   timestamp=np.array([0, 59 * MS, 60 * MS - 1, 61 * MS - 1, 120 * MS]),
                   user_vocab=np.arange(N + 1), item_vocab=np.arange(2), category_vocab=None,
                   behaviour_names=behaviour_vocab(BEHAVIOURS), meta={"time_unit": "ms"})
    w = churn_windows(t, 3, days=1)
    got = [(int(u), int(c // MS), int(y), e.tolist()) for u, c, y, e in
           zip(w.user, w.cut, w.targets, w.events)]
    assert got == [(1, 1, 1, [-1, -1, 0]), (N, 60, 0, [-1, 1, 2]), (N, 61, 1, [1, 2, 3])]
