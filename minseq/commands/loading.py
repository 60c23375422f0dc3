"""The data flags to an event table, for ``minseq train``, ``evaluate`` and ``recommend``: a
flag left out takes a checkpoint's value (where one is given), else the default; the path is
checked readable before any work; the table keeps its provenance in ``meta["data"]`` (what the
checkpoint records, minseq.tasks.provenance)."""

import sys
from pathlib import Path

from ..data import DataFormatError, generate, load
from ..data.loaders import AUTO, check_readable
from ..tasks.checks import SettingError
from ..tasks.provenance import sha256

SYNTHETIC = "synthetic"


def data_settings(args, saved=None):
    """The data flags, each left out taken from ``saved`` (a checkpoint's), else the default."""
    saved = saved or {}
    default = {"data": saved.get("path", SYNTHETIC), "format": saved.get("format", AUTO),
               "skip_bad_rows": saved.get("skip_bad_rows", False),
               "users": saved.get("users", 2000), "items": saved.get("items", 500)}
    return {k: default[k] if getattr(args, k) is None else getattr(args, k) for k in default}


def check_data_path(data):
    """A SettingError for a --data path that is missing, a folder or unreadable."""
    if data == SYNTHETIC:
        return
    try:
        check_readable(data)
    except (DataFormatError, FileNotFoundError) as exc:
        raise SettingError(f"--data {exc}") from None


def load_table(d, seed, quiet=False):
    """The event table of data settings ``d`` (a generated log for 'synthetic'), its
    provenance in ``meta["data"]``; unless ``quiet``, says how many bad rows were skipped and
    which header line."""
    if d["data"] == SYNTHETIC:
        table = generate(n_users=d["users"], n_items=d["items"], seed=seed)
        table.meta["data"] = {"source": SYNTHETIC, "users": d["users"], "items": d["items"]}
        return table
    table = load(d["data"], d["format"], d["skip_bad_rows"])
    table.meta["data"] = {"source": str(Path(d["data"]).resolve()),
                          "path": str(Path(d["data"]).resolve()),
                          "format": table.meta["format"], "skip_bad_rows": d["skip_bad_rows"],
                          "sha256": sha256(d["data"])}
    if quiet:
        return table
    if table.meta.get("header"):
        print(f"note: skipped the header line of {d['data']}: {table.meta['header']!r}",
              file=sys.stderr)
    if d["skip_bad_rows"]:
        print(f"skipped {table.meta['skipped']} bad row(s) of {table.meta['rows']} in "
              f"{d['data']}", file=sys.stderr)
    return table

