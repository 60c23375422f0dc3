"""The flags ``minseq train``, ``evaluate`` and ``recommend`` share: where the data comes from,
the backend and threads, the task and ``--metrics-out``, and the next-item evaluation options."""

from .. import backend
from ..data import FORMATS
from ..data.loaders import AUTO
from ..data.tasks import TASKS


def add_data_arguments(p, defaults_from=None):
    """The data flags; ``defaults_from`` (e.g. "the checkpoint's") when a flag left out takes
    its value from elsewhere than the defaults shown."""
    note = f" (default: {defaults_from})" if defaults_from else ""
    p.add_argument("--data", default=None,
                   help="'synthetic' (a generated log) or the PATH of a behaviour log" +
                        (note or " (default synthetic)"))
    p.add_argument("--format", choices=[AUTO, *FORMATS], default=None,
                   help="file format of --data PATH" + (note or " (default auto: sniffed)"))
    p.add_argument("--skip-bad-rows", action="store_true", default=None,
                   help="skip malformed rows and say how many")
    p.add_argument("--users", type=int, default=None,
                   help="synthetic log: number of users" + (note or " (default 2000)"))
    p.add_argument("--items", type=int, default=None,
                   help="synthetic log: number of items" + (note or " (default 500)"))
    p.add_argument("--seed", type=int, default=None,
                   help="seed of data, weights and batches" + (note or " (default 0)"))
    p.add_argument("--backend", choices=backend.BACKENDS, default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="threads for BLAS and the fast tier's batch shards (default: "
                        "MINSEQ_THREADS, else 1; README: choosing them)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines, and no report of the data and split at the start")
    p.add_argument("--reference", action="store_true",
                   help="run the plain reference layers of minseq.nn instead of their fast "
                        "twins (minseq.fast; the same function, tested equal)")


def add_output_arguments(p, task=True):
    """``--task`` (with ``task``) and ``--metrics-out``."""
    if task:
        p.add_argument("--task", choices=list(TASKS), default=None,
                       help="next-item (the recommenders' task) or next-behaviour / "
                            "will-purchase / churn (the classifiers'; default next-behaviour; "
                            "recency: churn)")
    p.add_argument("--metrics-out", default=None, metavar="FILE.json",
                   help="also write the final metrics and training time as JSON")


def add_ranking_arguments(p, defaults_from="the model's"):
    """The next-item evaluation flags (RecBole's names)."""
    p.add_argument("--k", type=int, nargs="+", default=None, metavar="K",
                   help=f"cutoffs of hit@K, recall@K, ndcg@K, mrr@K (default: {defaults_from}, "
                        "10)")
    p.add_argument("--negatives", type=int, default=None,
                   help="sampled negatives per user; 0: full ranking only (default: "
                        f"{defaults_from}, 100)")
    p.add_argument("--exclude-seen", action="store_true", default=None,
                   help="full ranking without the items each user has seen")

