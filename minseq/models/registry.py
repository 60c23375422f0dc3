"""Every trainable model by name: its class, its tasks (minseq.data.tasks) and its default
settings.

The command line (``--model`` choices), the task pipelines (minseq.tasks), ``evaluate``, the
checkpoints (their config names the model) and the benchmark all read ``MODELS``; a model is
added here and nowhere else.

    spec = MODELS["sasrec"]
    spec.cls, spec.task                      # SASRec, NEXT_ITEM
    spec.build(settings, n_items=1000)       # SASRec(n_items=1000, maxlen=..., d_model=...)

A spec's ``settings`` hold every hyper-parameter of a run with its default: the training ones
(epochs, batch_size, lr, patience, clip), the task's (churn_days) and the constructor's
(``model_args`` names those the constructor takes). ``build`` passes those, plus the sizes the
data decides (``n_items``, or ``n_behaviours`` and ``n_classes``, and churn's age buckets as
``n_categories``), so a checkpoint's config can rebuild the model from the keyword arguments
``kwargs(...)`` returned.
"""

from dataclasses import dataclass

from ..data.tasks import CHURN, NEXT_BEHAVIOUR, NEXT_ITEM, WILL_PURCHASE, task_of
from .baselines import Markov, Pop
from .behaviour_baselines import MarkovBehaviour, PopularClass, Recency
from .gru4rec import GRU4Rec
from .lstm_attention import LSTMAttentionClassifier
from .lstm_classifier import LSTMClassifier
from .mlp_counts import MLPCounts
from .sasrec import GBCE_T, SASRec
from .transformer_classifier import TransformerClassifier

#: the tasks a classifier trains for: the next behaviour, a purchase soon, churn
CLASSIFIER_TASKS = (NEXT_BEHAVIOUR, WILL_PURCHASE, CHURN)


@dataclass(frozen=True)
class ModelSpec:
    """A model's class, the tasks it trains for (its own first), its default settings, and
    which of them its constructor takes. ``fitted``: counted from the data (a baseline), not
    trained."""
    cls: type
    tasks: tuple
    settings: dict
    model_args: tuple = ()
    fitted: bool = False

    @property
    def task(self):
        """The model's own task: the one it trains for unless told otherwise."""
        return self.tasks[0]

    def kwargs(self, settings, **sizes):
        """The constructor's keyword arguments: ``sizes`` and the settings it names."""
        return dict(sizes, **{k: settings[k] for k in self.model_args})

    def build(self, settings, **sizes):
        return self.cls(**self.kwargs(settings, **sizes))


_BEHAVIOUR_TRAINING = dict(epochs=10, batch_size=128, lr=5e-3, maxlen=20, d_model=32,
                           dropout=0.1, patience=3, clip=5.0, churn_days=7.0)
#: the next-item evaluation options (minseq.tasks.evaluation): cutoffs, sampled negatives per
#: user (0: full ranking only), and whether the full ranking drops the items a user has seen
_RANKING = dict(k=(10,), negatives=100, exclude_seen=False)
_RECOMMENDER_TRAINING = dict(_RANKING, batch_size=128, maxlen=50, dropout=0.2, patience=5)

MODELS = {
    # next-item recommenders: leave-one-out, sampled and full-ranking metrics
    "gru4rec": ModelSpec(GRU4Rec, (NEXT_ITEM,), dict(
        _RECOMMENDER_TRAINING, epochs=30, lr=2e-3, d_model=64, clip=5.0, n_sampled=None),
        ("d_model", "dropout", "n_sampled", "seed")),
    "sasrec": ModelSpec(SASRec, (NEXT_ITEM,), dict(
        _RECOMMENDER_TRAINING, epochs=50, lr=1e-3, d_model=50, num_heads=1, num_layers=2,
        clip=None, loss="bce", loss_negatives=None, gbce_t=GBCE_T),
        ("maxlen", "d_model", "num_layers", "num_heads", "dropout", "loss", "loss_negatives",
         "gbce_t", "seed")),
    "pop": ModelSpec(Pop, (NEXT_ITEM,), dict(_RANKING, maxlen=50), fitted=True),
    "markov": ModelSpec(Markov, (NEXT_ITEM,), dict(_RANKING, maxlen=50), fitted=True),
    # next-behaviour classifiers: windows per user, accuracy, macro F1 (and AUC)
    "mlp": ModelSpec(MLPCounts, CLASSIFIER_TASKS, dict(_BEHAVIOUR_TRAINING),
                     ("d_model", "dropout")),
    "lstm": ModelSpec(LSTMClassifier, CLASSIFIER_TASKS,
                      dict(_BEHAVIOUR_TRAINING, num_layers=1),
                      ("d_model", "num_layers", "dropout")),
    "lstm-attn": ModelSpec(LSTMAttentionClassifier, CLASSIFIER_TASKS,
                           dict(_BEHAVIOUR_TRAINING), ("d_model", "dropout")),
    "transformer": ModelSpec(TransformerClassifier, CLASSIFIER_TASKS, dict(
        _BEHAVIOUR_TRAINING, lr=1e-3, num_heads=2, num_layers=2),
        ("d_model", "num_heads", "num_layers", "maxlen", "dropout")),
    "popular-class": ModelSpec(PopularClass, CLASSIFIER_TASKS, dict(maxlen=20), fitted=True),
    "markov-behaviour": ModelSpec(MarkovBehaviour, CLASSIFIER_TASKS, dict(maxlen=20),
                                  fitted=True),
    # churn: will an active user go silent for churn_days? (classifiers above, and recency)
    "recency": ModelSpec(Recency, (CHURN,), dict(maxlen=20, churn_days=7.0), fitted=True),
}


def spec_of(name):
    """The spec of model ``name``; a ValueError lists the known names."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


def task_for(model, task=None):
    """``task`` (a Task or its name), or model ``model``'s own when None; a task the model is
    not made for is a ValueError."""
    spec = spec_of(model)
    if task is None:
        return spec.task
    task = task_of(task)
    if task not in spec.tasks:
        raise ValueError(f"{model} is a {spec.task} model: its task(s) "
                         f"{', '.join(map(str, spec.tasks))}, not {task}")
    return task
