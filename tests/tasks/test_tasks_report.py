"""What a classifier run says before training, and the class balance it checks there: each
split's windows counted by class, a split of one class refused in one line that names the
counts and what to change."""

import io
import re
import sys
from dataclasses import replace

import numpy as np
import pytest

from minseq.data import generate
from minseq.data.tasks import CHURN, NEXT_BEHAVIOUR, WILL_PURCHASE
from minseq.tasks.checks import SettingError
from minseq.tasks.report import (balance, check_balance, class_counts, data_line, say,
                                  users_of)

NAMES = ["<pad>", "view", "cart", "buy"]


def test_a_behaviour_class_is_its_behaviour_id_minus_one_and_an_empty_class_is_counted():
    counts = class_counts(np.array([0, 0, 1]), NEXT_BEHAVIOUR, NAMES)
    assert counts == {"view": 2, "cart": 1, "buy": 0}


def test_a_binary_tasks_classes_are_its_two_named_classes():
    assert class_counts(np.array([0.0, 0.0, 0.0]), CHURN, NAMES) == {"stay": 3, "churn": 0}
    assert class_counts(np.array([1, 0, 1]), WILL_PURCHASE, NAMES) == {
        "no purchase": 1, "purchase": 2}


def test_the_balance_shows_the_windows_and_their_classes_leaving_out_the_empty_ones():
    assert balance({"stay": 38, "churn": 7}) == "45 (38 stay, 7 churn)"
    assert balance({"view": 4, "cart": 0, "buy": 2}) == "6 (4 view, 2 buy)"


def test_every_split_of_two_classes_or_more_passes():
    check_balance({"train": (5, {"stay": 3, "churn": 1}), "valid": (2, {"stay": 1, "churn": 1})},
                  CHURN, {"churn_days": 2.0})


def test_a_split_of_one_class_is_named_with_its_counts_after_a_good_one():
    splits = {"train": (28, {"view": 3, "cart": 1, "buy": 0}),
              "valid": (6, {"view": 4, "cart": 0, "buy": 0})}
    with pytest.raises(SettingError, match=re.escape(
            "--task next-behaviour: the valid split (6 users) has 4 windows: 4 view, 0 cart, "
            "0 buy; every split needs two classes or more: use a log with more users")) as e:
        check_balance(splits, NEXT_BEHAVIOUR, {"maxlen": 6})
    assert str(e.value).endswith("more users")


def test_a_churn_split_of_one_class_also_names_its_churn_days():
    with pytest.raises(SettingError, match=re.escape(
            "--task churn: the test split (3 users) has 3 windows: 3 stay, 0 churn; every split "
            "needs two classes or more: use a log with more users, or other --churn-days "
            "(now 2.5)")):
        check_balance({"test": (3, {"stay": 3, "churn": 0})}, CHURN, {"churn_days": 2.5})


def test_the_data_line_names_the_source_users_with_events_events_and_items(capsys):
    log = generate(n_users=6, n_items=30, seed=1)
    first = log.select(log.user != 2)                   # user 2 has no event left
    assert users_of(first) == 5 and users_of(log) == 6
    assert data_line(first) == (f"data      synthetic(seed=1): 5 users, {len(first)} events, "
                                f"30 items")
    assert data_line(replace(log, meta={})).startswith("data      the data: 6 users")
    say(["one", "two"], False)
    say(["three"], True)
    assert capsys.readouterr().out == "one\ntwo\n"


def test_each_line_said_is_flushed_so_a_piped_run_shows_it_at_once(monkeypatch):
    """A run's output read through a pipe (a log file, mpiexec) is block-buffered: each line
    is flushed as it is said, so it shows before the training that follows it."""
    class Pipe(io.StringIO):
        def flush(self):
            flushed.append(self.getvalue())

    flushed = []
    monkeypatch.setattr(sys, "stdout", Pipe())
    say(["one", "two"], False)
    assert flushed == ["one\n", "one\ntwo\n"]


def test_a_user_of_one_event_is_a_user():
    log = generate(n_users=6, n_items=30, seed=1)
    assert users_of(log.select(log.position() == 0)) == 6
