"""``minseq train`` / ``minseq evaluate`` for next-item models, and that order-aware models
beat popularity on the synthetic log."""

import json
import time
from types import SimpleNamespace

import numpy as np
import pytest
from built_nets import dtypes_of, fast_tier

from minseq.cli import main
from minseq.data import generate
from minseq import checkpoint, tasks
from minseq.tasks import next_item


@pytest.fixture(scope="module")
def small_log():
    return generate(n_users=200, n_items=300, seed=0)


@pytest.mark.parametrize("model, settings", [
    ("gru4rec", dict(epochs=3, batch_size=32, lr=0.01, maxlen=20, d_model=64)),
    ("sasrec", dict(epochs=3, batch_size=32, lr=0.005, maxlen=20, d_model=32)),
])
def test_order_aware_models_beat_popularity(small_log, tmp_path, model, settings):
    """A few epochs on 200 users: the synthetic log's next item depends on the last one (the
    funnel repeats it, related items follow it), which popularity cannot see. Over seeds 0-4
    of the log the sampled NDCG@10 margin over pop was 0.11-0.16 (GRU4Rec) and 0.24-0.26
    (SASRec); the test asks for 0.05."""
    pop = tasks.train(small_log, "pop", settings={"maxlen": 20}, out=tmp_path / "pop",
                      quiet=True)["metrics"]
    got = tasks.train(small_log, model, settings=settings, out=tmp_path / model,
                      quiet=True)["metrics"]
    assert got["sampled"]["ndcg@10"] > pop["sampled"]["ndcg@10"] + 0.05
    assert got["full"]["hit@10"] > pop["full"]["hit@10"]


def test_cli_trains_writes_metrics_and_evaluate_rereads_the_checkpoint(tmp_path, capsys):
    out, metrics = tmp_path / "run", tmp_path / "m.json"
    assert main(["train", "--model", "sasrec", "--data", "synthetic", "--users", "200",
                 "--epochs", "1", "--maxlen", "20", "--quiet", "--out", str(out),
                 "--metrics-out", str(metrics)]) == 0
    result = json.loads(metrics.read_text())
    for protocol, names in (("sampled", ("hit@10", "recall@10", "ndcg@10", "mrr@10")),
                            ("full", ("hit@10", "recall@10", "ndcg@10", "mrr@10"))):
        assert set(result["metrics"][protocol]) == set(names)
    assert result["task"] == "next-item" and result["epochs"] == 1
    assert result["train_seconds"] > 0 and result["seconds_per_epoch"] > 0
    assert (out / "best.npz").exists() and (out / "curves.png").exists()
    assert "ndcg@10" in capsys.readouterr().out
    again = tmp_path / "again.json"
    assert main(["evaluate", str(out / "best.npz"), "--data", "synthetic", "--users", "200",
                 "--metrics-out", str(again)]) == 0
    reread = json.loads(again.read_text())["metrics"]
    for protocol in ("sampled", "full"):
        assert reread[protocol] == pytest.approx(result["metrics"][protocol])


def test_user_item_file_trains_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for user in range(1, 41):                       # each user walks 1 -> 2 -> 3 ... mod 30
        start = rng.integers(1, 31)
        lines += [f"{user} {(start + k) % 30 + 1}" for k in range(rng.integers(3, 12))]
    path = tmp_path / "log.txt"
    path.write_text("\n".join(lines) + "\n")
    for model in ("gru4rec", "markov"):
        metrics = tmp_path / f"{model}.json"
        assert main(["train", "--model", model, "--data", str(path), "--format", "user-item",
                     "--epochs", "2", "--quiet", "--out", str(tmp_path / model),
                     "--metrics-out", str(metrics)]) == 0
        assert 0 <= json.loads(metrics.read_text())["metrics"]["full"]["hit@10"] <= 1
    # a deterministic walk: Markov finds every next item
    assert json.loads((tmp_path / "markov.json").read_text())["metrics"]["full"]["hit@10"] == 1


def test_evaluate_on_another_catalogue_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "pop"
    assert main(["train", "--model", "pop", "--data", "synthetic", "--users", "50",
                 "--items", "100", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out / "best.npz"), "--data", "synthetic", "--users", "50",
                 "--items", "120"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("minseq evaluate: checkpoint") and "\n" not in err
    assert "trained on 100 items, the data has 120" in err


def test_reference_and_fast_layers_train_to_the_same_model(small_log, tmp_path):
    """``--reference`` trains the plain layers of minseq.nn, the default their fast twins: the
    same function, so the same metrics up to float32 rounding."""
    settings = dict(epochs=1, batch_size=32, lr=0.005, maxlen=20, d_model=16)
    fast = tasks.train(small_log, "sasrec", settings=settings, out=tmp_path / "fast",
                       quiet=True)["metrics"]
    ref = tasks.train(small_log, "sasrec", settings=settings, out=tmp_path / "ref",
                      reference=True, quiet=True)["metrics"]
    for protocol in ("sampled", "full"):
        assert ref[protocol] == pytest.approx(fast[protocol], abs=2e-3)


def test_training_targets_are_aligned_with_left_padded_inputs():
    """Each column's target is the item after its input, padding on the left, a long history
    cut to its latest steps, and a history of one item gives no example."""
    batches = tasks.next_item.training_batches([np.array([1, 2, 3]), np.array([4]),
                                                np.array([4, 5, 6, 7, 8, 9])], maxlen=4,
                                               batch_size=8, seed=0)
    batches.shuffle = False
    ((inputs, targets, mask),) = list(batches)
    assert inputs.tolist() == [[0, 0, 1, 2], [5, 6, 7, 8]]
    assert targets.tolist() == [[0, 0, 2, 3], [6, 7, 8, 9]]
    assert mask.tolist() == [[False, False, True, True], [True] * 4]


@pytest.fixture(scope="module")
def sasrec_checkpoint(small_log, tmp_path_factory):
    out = tmp_path_factory.mktemp("sasrec")
    tasks.train(small_log, "sasrec", settings=dict(epochs=1, batch_size=64, maxlen=10,
                                                   d_model=8), out=out, quiet=True)
    return out / "best.npz"


def scored_nets(monkeypatch):
    """The models that next_item.evaluate scores, as it scores them."""
    seen, score = [], tasks.next_item.evaluate_protocol
    monkeypatch.setattr(tasks.next_item, "evaluate_protocol",
                        lambda net, *a, **kw: seen.append(net) or score(net, *a, **kw))
    return seen


def test_evaluate_says_the_model_epoch_negatives_and_users_it_scored(small_log,
                                                                     sasrec_checkpoint):
    got = tasks.evaluate(small_log, sasrec_checkpoint)
    assert {k: v for k, v in got.items() if k != "metrics"} == dict(
        model="sasrec", epoch=1, sampled_negatives=100, users_evaluated=200, task="next-item")
    given = tasks.evaluate(small_log, sasrec_checkpoint,
                           settings={"negatives": 50, "k": [5], "exclude_seen": False})
    assert given["sampled_negatives"] == 50
    assert set(given["metrics"]["sampled"]) == {"hit@5", "recall@5", "ndcg@5", "mrr@5"}
    # the full ranking without the seen items: a user's own history no longer competes
    unseen = tasks.evaluate(small_log, sasrec_checkpoint, settings={"exclude_seen": True})
    assert unseen["metrics"]["full"] != got["metrics"]["full"]
    assert unseen["metrics"]["sampled"] == got["metrics"]["sampled"]


def test_evaluate_draws_the_negatives_by_its_seed(small_log, sasrec_checkpoint):
    first, other = (tasks.evaluate(small_log, sasrec_checkpoint, seed=s)["metrics"]
                    for s in (0, 1))
    assert first["sampled"] != other["sampled"] and first["full"] == other["full"]


def test_evaluate_rebuilds_the_model_in_its_dtype_and_tier(small_log, sasrec_checkpoint,
                                                           tmp_path, monkeypatch):
    seen = scored_nets(monkeypatch)
    wide = tmp_path / "wide.npz"
    wide.write_bytes(sasrec_checkpoint.read_bytes())
    checkpoint.annotate(wide, dtype="float64")
    tasks.evaluate(small_log, sasrec_checkpoint)
    tasks.evaluate(small_log, wide)
    tasks.evaluate(small_log, sasrec_checkpoint, reference=True)
    assert dtypes_of(seen) == [{"float32"}, {"float64"}, {"float32"}]
    assert fast_tier(seen) == [True, True, False]


def test_a_checkpoint_of_another_catalogue_is_refused(small_log, sasrec_checkpoint):
    from minseq import checkpoint
    from minseq.tasks import RunSettings
    config = checkpoint.read(sasrec_checkpoint)[2]
    run = RunSettings.from_config(config)
    with pytest.raises(checkpoint.CheckpointError, match=(
            f"checkpoint p was trained on {small_log.n_items + 1} items, the data has "
            f"{small_log.n_items}")):
        tasks.next_item.evaluate(small_log, "p", run,
                                 dict(config, kwargs=dict(n_items=small_log.n_items + 1)))


# -- the pieces of a next-item run -----------------------------------------------------------

TINY = dict(epochs=1, batch_size=16, maxlen=5, d_model=8, negatives=10, k=[5],
            exclude_seen=True)


@pytest.fixture(scope="module")
def short_log():
    """30 users of 3 to 7 events: leave-one-out training histories of 1 item and of 2."""
    return generate(n_users=30, n_items=40, min_events=3, events_per_user=6, seed=1)


def test_a_history_of_two_items_is_one_training_example_in_batches_of_the_size_and_seed():
    batches = next_item.training_batches([np.array([1, 2]), np.array([3]), np.array([4, 5, 6])],
                                         maxlen=3, batch_size=1, seed=9)
    assert len(batches.inputs) == 2 and batches.batch_size == 1 and len(batches) == 2
    assert np.array_equal(batches.rng.permutation(50), np.random.default_rng(9).permutation(50))


def test_a_full_softmax_turns_sampled_only_above_the_largest_full_catalogue():
    full = tasks.RunSettings(model="gru4rec", task="next-item", model_settings={"n_sampled": None})
    largest, above = (SimpleNamespace(n_items=n) for n in (next_item.FULL_SOFTMAX_UP_TO,
                                                           next_item.FULL_SOFTMAX_UP_TO + 1))
    assert next_item.for_catalogue(full, largest) is full
    assert next_item.for_catalogue(full, above).model_settings["n_sampled"] == 2048
    sampled = full.replace(model_settings={"n_sampled": 64})
    assert next_item.for_catalogue(sampled, above) is sampled
    other = tasks.RunSettings(model="sasrec", task="next-item")
    assert next_item.for_catalogue(other, above) is other


def test_a_next_item_model_trains_with_adam_at_its_rate_and_sasrecs_betas(short_log):
    net = next_item.MODELS["sasrec"].cls(n_items=5, d_model=4, maxlen=3)
    adam = next_item.optimizer_for(net, {"lr": 0.0125})
    assert adam.lr == 0.0125 and adam.betas == next_item.BETAS == (0.9, 0.98)
    assert next_item.ranking_options({"k": [5, 10], "exclude_seen": True, "negatives": 3}) == {
        "ks": (5, 10), "exclude_seen": True}


def spy(monkeypatch, name):
    """The calls (args, kwargs) of next_item's ``name``, which still does its work."""
    calls, real = [], getattr(next_item, name)
    monkeypatch.setattr(next_item, name, lambda *a, **kw: calls.append((a, kw)) or real(*a, **kw))
    return calls


def test_a_trained_model_says_its_split_and_passes_its_options_everywhere(short_log, tmp_path,
                                                                          monkeypatch, capsys):
    protocols, scored, validated, fits = (spy(monkeypatch, n) for n in (
        "Protocol", "evaluate_protocol", "validation_metrics", "fit_epochs"))
    capsys.readouterr()
    before = time.perf_counter()
    got = next_item.train(short_log, tasks.RunSettings(
        model="sasrec", task="next-item", model_settings=dict(TINY, epochs=2, patience=5),
        seed=3, out=tmp_path,
        dtype="float64"))
    elapsed = time.perf_counter() - before
    said = capsys.readouterr().out.splitlines()
    events = int(short_log.lengths().sum())
    assert said[:4] == [
        f"data      synthetic(seed=1): 30 users, {events} events, 40 items",
        f"split     leave one out: 30 users hold out a validation and a test event; "
        f"{events - 60} events train",
        f"windows   train {int((short_log.lengths() >= 4).sum())} sequences (maxlen 5); "
        f"valid 30, test 30 held-out events",
        f"model     sasrec: {got['parameters']:,} parameters"]
    ((_, kw),) = [c for c in protocols]
    assert kw == {"n_negatives": 10, "seed": 3}
    options = {"ks": (5,), "exclude_seen": True}
    assert {k: v for k, v in scored[0][1].items() if k != "comm"} == options
    net = fits[0][0][1]
    fits[0][1]["validate"](net)
    assert {k: v for k, v in validated[0][1].items() if k != "comm"} == options
    assert fits[0][1]["monitor"] == next_item.monitored((5,), 10)
    assert "vocab/item" in fits[0][1]["vocab"]
    assert {str(p.dtype) for m in net.modules() for p in m.params.values()} == {"float64"}
    assert 0 < got["train_seconds"] <= elapsed
    assert got["seconds_per_epoch"] == pytest.approx(sum(got["history"]["seconds"]) / 2)
    assert got["epochs"] == 2 and got["sampled_negatives"] == 10
    assert set(got) == {"metrics", "train_seconds", "seconds_per_epoch", "epochs", "model",
                        "checkpoint", "settings", "parameters", "sampled_negatives",
                        "users_evaluated", "history"}
    assert got["model"] == "sasrec" and got["settings"]["maxlen"] == 5
    assert got["parameters"] == net.num_parameters() and got["users_evaluated"] == 30
    assert got["checkpoint"] == str(tmp_path / "best.npz")
    config = checkpoint.read(tmp_path / "best.npz")[2]
    assert config["data"] == next_item.data_of(short_log) and config["maxlen"] == 5
    # quiet: nothing said; one epoch is its own time per epoch
    once = next_item.train(short_log, tasks.RunSettings(
        model="sasrec", task="next-item", model_settings=TINY, out=tmp_path / "q", quiet=True))
    assert capsys.readouterr().out == ""
    assert once["seconds_per_epoch"] == pytest.approx(sum(once["history"]["seconds"]))
    # and the default dtype is float32 (astype(None) would be float64)
    assert {str(p.dtype) for m in fits[1][0][1].modules() for p in m.params.values()} == {
        "float32"}


def test_a_fitted_baseline_is_saved_at_epoch_0_with_its_data_and_has_no_history(short_log,
                                                                                tmp_path):
    before = time.perf_counter()
    got = next_item.train(short_log, tasks.RunSettings(
        model="pop", task="next-item", model_settings=TINY, out=tmp_path, quiet=True))
    assert 0 < got["train_seconds"] <= time.perf_counter() - before
    assert got["epochs"] == 0 and got["seconds_per_epoch"] == got["train_seconds"]
    assert set(got) == {"metrics", "train_seconds", "seconds_per_epoch", "epochs", "model",
                        "checkpoint", "settings", "parameters", "sampled_negatives",
                        "users_evaluated"}
    config = checkpoint.read(tmp_path / "best.npz")[2]
    assert config["epoch"] == 0 and config["data"] == next_item.data_of(short_log)
    assert "item" in checkpoint.vocabularies(tmp_path / "best.npz")
