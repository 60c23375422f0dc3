"""``python -m minseq data``: summarise a generated log or a file in one of the known formats.

    python -m minseq data --synthetic --users 1000 --seed 0
    python -m minseq data ratings.dat --format movielens [--skip-bad-rows] [--k-core 5]
"""

import sys

from ..data import FORMATS, DataFormatError, generate, load
from ..data.loaders import AUTO
from ..data.splits import k_core


def add_arguments(p):
    p.add_argument("path", nargs="?", help="a behaviour log to load (or use --synthetic)")
    p.add_argument("--format", choices=[AUTO, *FORMATS], default=AUTO,
                   help="file format (default auto: sniffed from the first line)")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip malformed rows, count them")
    p.add_argument("--synthetic", action="store_true", help="generate a log instead of loading")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--items", type=int, default=500)
    p.add_argument("--categories", type=int, default=20)
    p.add_argument("--events-per-user", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k-core", type=int, default=0, metavar="K",
                   help="keep only users and items with at least K events")


def run(args):
    if args.synthetic == bool(args.path):
        print("minseq data: give a PATH or --synthetic (one of the two)", file=sys.stderr)
        return 2
    try:
        table = generate(args.users, args.items, args.categories, args.events_per_user,
                         seed=args.seed) if args.synthetic else \
            load(args.path, args.format, args.skip_bad_rows)
    except (DataFormatError, FileNotFoundError, ValueError) as exc:
        print(f"minseq data: {exc}", file=sys.stderr)
        return 1
    print(f"source      {table.meta['source']}")
    if "format" in table.meta:
        print(f"format      {table.meta['format']}")
    if table.meta.get("header"):
        print(f"header      skipped: {table.meta['header']!r}")
    if "skipped" in table.meta:
        print(f"rows        {table.meta['rows']} read, {table.meta['skipped']} skipped")
    if args.k_core:
        table = k_core(table, args.k_core, args.k_core)
        print(f"{args.k_core}-core")
    print(table.summary())
    if len(table):
        u = int(table.user[0])
        rows = table.user_events(u)
        names = [table.behaviour_names[b] for b in table.behaviour[rows][:8]]
        items = table.item_vocab[table.item[rows][:8]].tolist()
        print(f"user {table.user_vocab[u]} starts: " +
              ", ".join(f"{n} {i}" for n, i in zip(names, items)))
    return 0
