"""The processes of a run share its scoring: every place a pipeline scores a model (validation
after each epoch, churn's threshold, the test metrics, a fold's validation, a re-scored
checkpoint) hands the rows to the run's own communicator. Without it each process would score
every row itself: the same numbers, the work not shared, so only the communicator handed over
tells the two apart. The multi-process tests (``make test-mpi``) run the sharing for real."""

import numpy as np
import pytest
from tagged_comm import Tagged

from minseq import backend, tasks
from minseq.data import generate
from minseq.parallel import processes
from minseq.tasks import evaluation, next_behaviour
from minseq.tasks.evaluation import Protocol

SMALL = dict(epochs=2, batch_size=64, maxlen=6, d_model=8, dropout=0.0)


@pytest.fixture
def scorings(monkeypatch):
    """The communicator of every shared scoring made from now on, in order."""
    seen, shared_rows = [], processes.shared_rows

    def spy(comm, *args, **kwargs):
        seen.append(comm)
        return shared_rows(comm, *args, **kwargs)

    monkeypatch.setattr(evaluation, "shared_rows", spy)
    monkeypatch.setattr(next_behaviour, "shared_rows", spy)
    return seen


@pytest.fixture(scope="module")
def short_log():
    """A next-item log of 30 users, 40 items, 3 to about 6 events each."""
    return generate(n_users=30, n_items=40, min_events=3, events_per_user=6, seed=1)


def test_a_churn_run_scores_validation_threshold_and_test_on_its_processes(tmp_path, scorings):
    log, comm = generate(n_users=60, seed=3), Tagged()
    tasks.train(log, "mlp", "churn", SMALL, out=tmp_path, quiet=True, comm=comm)
    # 2 validations, the threshold's validation probabilities, the test
    assert len(scorings) == 4 and all(c is comm for c in scorings)
    scorings.clear()
    tasks.evaluate(log, tmp_path / "best.npz", comm=comm)
    assert len(scorings) == 1 and scorings[0] is comm


def test_each_fold_scores_its_validation_and_threshold_on_the_runs_processes(tmp_path,
                                                                             scorings):
    comm = Tagged()
    tasks.train(generate(n_users=90, seed=6), "mlp", "churn", dict(SMALL, epochs=1),
                out=tmp_path, quiet=True, folds=2, comm=comm)
    # per fold: 1 validation in fit, the fold's score, its threshold; then the refit's test
    # (the refit has no validation; its threshold comes from the folds)
    assert len(scorings) == 2 * 3 + 1 and all(c is comm for c in scorings)


def test_a_next_item_run_scores_validation_and_test_on_its_processes(short_log, tmp_path,
                                                                      scorings):
    comm = Tagged()
    tasks.train(short_log, "gru4rec", settings=dict(SMALL, negatives=5), out=tmp_path, quiet=True,
                comm=comm)
    # 2 validations (sampled), the test's sampled and full rankings
    assert len(scorings) == 4 and all(c is comm for c in scorings)
    scorings.clear()
    tasks.evaluate(short_log, tmp_path / "best.npz", comm=comm)
    assert len(scorings) == 2 and all(c is comm for c in scorings)


class ItemIdScores:
    """A 'model' scoring each item of ``short_log`` by its id, whatever the history: no
    training needed."""

    n_items = 40

    def score_last(self, seq, candidates=None):
        ids = np.tile(np.arange(1, self.n_items + 1, dtype=np.float64), (seq.shape[0], 1))
        if candidates is None:
            return backend.asarray(ids)
        return backend.asarray(candidates).astype(backend.xp.float64)


@pytest.mark.parametrize("negatives", [0, 5])
def test_the_protocols_metrics_score_on_the_processes_given(short_log, negatives, scorings):
    split = Protocol(short_log, maxlen=6, n_negatives=negatives, seed=0).valid
    comm = Tagged()
    evaluation.validation_metrics(ItemIdScores(), split, comm=comm)
    evaluation.evaluate(ItemIdScores(), split, comm=comm)
    # validation: one protocol; evaluate: the full ranking, and the sampled one if any
    assert len(scorings) == 1 + 1 + (negatives > 0) and all(c is comm for c in scorings)
