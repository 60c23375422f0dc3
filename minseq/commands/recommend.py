"""``python -m minseq recommend CHECKPOINT --user ID``: the top-k items for a user, raw ids in
and raw ids out.

    python -m minseq recommend out/train/sasrec/run-1 --user 42 -k 10
    python -m minseq recommend out/train/sasrec/run-1/best.npz --history "B1 B7 B3"

The user's history comes from the checkpoint's data (or ``--data``), or is given as
``--history``; the items in it are left out unless ``--include-seen``.
"""

import sys

from ..checkpoint import CheckpointError
from ..data import DataFormatError
from ..tasks.checks import SettingError, check_settings
from ..tasks.folder import checkpoint_in
from ..tasks.recommend import Recommender
from .loading import check_data_path, data_settings, load_table
from .runner import fail


def add_arguments(p):
    p.add_argument("checkpoint", help="a next-item run folder of 'minseq train' (its "
                                      "best.npz), or a checkpoint it wrote")
    p.add_argument("--user", default=None, help="raw user id whose history is scored")
    p.add_argument("--history", default=None, metavar='"I1 I2 ..."',
                   help="raw item ids, oldest first, instead of the user's history")
    p.add_argument("-k", "--top", dest="top", type=int, default=10,
                   help="how many items (default 10)")
    p.add_argument("--include-seen", action="store_true",
                   help="also recommend items already in the history")
    p.add_argument("--data", default=None, help="the log to take the history from (default: "
                                                 "the checkpoint's data)")
    p.add_argument("--format", default=None, help="format of --data (default: the checkpoint's)")


def run(args):
    try:
        check_settings({"top": args.top})
        if args.user is None and args.history is None:
            raise SettingError("give --user ID or --history \"I1 I2 ...\"")
        if args.history is not None and not args.history.split():
            raise SettingError("--history must name at least one item")
    except SettingError as exc:
        return fail("recommend", exc, 2)
    try:
        rec = Recommender(checkpoint_in(args.checkpoint, "best"))
        if args.history is not None:
            history = rec.items_of(args.history.split())
        else:
            args.skip_bad_rows = args.users = args.items = None
            d = data_settings(args, rec.config.get("data"))
            check_data_path(d["data"])
            history = rec.history_of(load_table(d, rec.config.get("seed", 0), quiet=True), args.user)
        top = rec.top_k(history, args.top, args.include_seen)
    except SettingError as exc:
        return fail("recommend", exc, 2)
    except (CheckpointError, DataFormatError, FileNotFoundError, ValueError) as exc:
        return fail("recommend", exc, 1)
    who = f"user {args.user}" if args.history is None else "the history given"
    seen = "seen items included" if args.include_seen else "seen items excluded"
    print(f"top {len(top)} items for {who} ({len(history)} events; {seen})", file=sys.stderr)
    print(f"{'rank':<6}{'item':<20}score")
    for rank, (item, score) in enumerate(top, 1):
        print(f"{rank:<6}{str(item):<20}{score:.4f}")
    return 0
