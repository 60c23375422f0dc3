"""Loaders for public behaviour logs, each into one EventTable (see ``events.py``).

Formats (``FORMATS``; ``load(path, format)`` picks one by name):

* ``taobao``: Taobao UserBehavior CSV ``user_id,item_id,category_id,behavior_type,timestamp``
  (no header, or that header); behaviours pv / buy / cart / fav become browse / purchase /
  cart / favourite; Unix seconds.
* ``retailrocket``: RetailRocket ``events.csv`` with its header
  ``timestamp,visitorid,event,itemid,transactionid`` (columns found by name); events view /
  addtocart / transaction become browse / cart / purchase; milliseconds.
* ``movielens``: MovieLens ``ratings.dat``, ``UserID::MovieID::Rating::Timestamp``; one
  behaviour "rate", the rating in ``table.value``; Unix seconds.
* ``user-item``: one ``user item`` pair per line, already in time order per user, as in public
  sequential-recommendation benchmarks; one behaviour "interact"; the timestamp is the line
  number.

Every loader streams the file line by line (``.gz`` too) into compact typed buffers, so a file
larger than memory allows as text still loads; ids become dense (0 = padding). A malformed row is
a ``DataFormatError`` naming the file and line, unless ``skip_bad_rows=True``: then the row is
dropped and counted in ``table.meta["skipped"]``. Blank lines are ignored.
"""

import gzip
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .events import BEHAVIOURS, behaviour_vocab, from_columns


class DataFormatError(ValueError):
    """A file does not hold what its format promises."""


@dataclass(frozen=True)
class Format:
    name: str
    sep: object               # field separator (None: any whitespace)
    columns: tuple            # column names, in file order when there is no header
    header: str               # "required", "optional" or "none"
    behaviours: dict           # raw behaviour value -> behaviour name
    time_unit: str
    user: str = "user_id"     # which columns hold what
    item: str = "item_id"
    behaviour: str = None
    timestamp: str = None
    category: str = None
    value: str = None

    @property
    def names(self):
        """The table's behaviour vocabulary: the shared one when every raw value maps into it."""
        return BEHAVIOURS if set(self.behaviours.values()) <= set(BEHAVIOURS) else \
            tuple(dict.fromkeys(self.behaviours.values()))


FORMATS = {f.name: f for f in (
    Format("taobao", ",", ("user_id", "item_id", "category_id", "behavior_type", "timestamp"),
           "optional", {"pv": "browse", "buy": "purchase", "cart": "cart", "fav": "favourite"},
           "s", behaviour="behavior_type", timestamp="timestamp", category="category_id"),
    Format("retailrocket", ",", ("timestamp", "visitorid", "event", "itemid", "transactionid"),
           "required", {"view": "browse", "addtocart": "cart", "transaction": "purchase"},
           "ms", user="visitorid", item="itemid", behaviour="event", timestamp="timestamp"),
    Format("movielens", "::", ("UserID", "MovieID", "Rating", "Timestamp"), "none",
           {None: "rate"}, "s", user="UserID", item="MovieID", timestamp="Timestamp",
           value="Rating"),
    Format("user-item", None, ("user", "item"), "none", {None: "interact"}, "line",
           user="user", item="item"),
)}


def load(path, format, skip_bad_rows=False):
    """Load ``path`` in the named format (a key of FORMATS) into an EventTable."""
    if format not in FORMATS:
        raise ValueError(f"load: unknown format {format!r}; known: {', '.join(FORMATS)}")
    return _load(Path(path), FORMATS[format], skip_bad_rows)


def load_taobao(path, skip_bad_rows=False):
    return load(path, "taobao", skip_bad_rows)


def load_retailrocket(path, skip_bad_rows=False):
    return load(path, "retailrocket", skip_bad_rows)


def load_movielens(path, skip_bad_rows=False):
    return load(path, "movielens", skip_bad_rows)


def load_user_item(path, skip_bad_rows=False):
    return load(path, "user-item", skip_bad_rows)


def _open(path):
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    # utf-8-sig drops a byte-order mark; a bad byte fails its own row
    return open(path, encoding="utf-8-sig", errors="replace")


def _lines(path):
    """The lines of the file; a truncated or corrupted .gz is a DataFormatError naming it."""
    with _open(path) as f:
        try:
            yield from f
        except (EOFError, OSError, zlib.error) as exc:
            raise DataFormatError(f"{path}: truncated or corrupted ({exc})") from None


def _load(path, fmt, skip_bad_rows):
    names = fmt.names
    code = {raw: names.index(name) + 1 for raw, name in fmt.behaviours.items()}
    cols = {k: array("q") for k in ("user", "item", "behaviour", "timestamp", "category")}
    values = array("d")
    rows = skipped = 0
    index = None  # column name -> field position, from the header or from fmt.columns
    for lineno, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split(fmt.sep)
        if index is None:
            index = _header(path, fmt, [f.strip() for f in fields])
            if index is not None:
                continue  # that line was the header
            index = {name: i for i, name in enumerate(fmt.columns)}
        rows += 1
        try:
            rec = _parse(fmt, index, fields, code)
        except ValueError as exc:
            if not skip_bad_rows:
                raise DataFormatError(f"{path}, line {lineno}: {exc} "
                                      f"(pass skip_bad_rows=True to skip such rows)") from None
            skipped += 1
            continue
        for k, v in zip(("user", "item", "behaviour", "category"), rec):
            cols[k].append(v)
        cols["timestamp"].append(lineno if fmt.timestamp is None else rec[4])
        if fmt.value:
            values.append(rec[5])
    if rows - skipped == 0:
        why = f"{skipped} bad rows skipped" if skipped else "empty file"
        raise DataFormatError(f"{path}: no events ({why})")
    col = {k: np.frombuffer(v, dtype=np.int64) for k, v in cols.items()}
    return from_columns(col["user"], col["item"], col["behaviour"], col["timestamp"],
                        behaviour_vocab(names), category=col["category"] if fmt.category else None,
                        value=np.frombuffer(values, np.float64) if fmt.value else None,
                        meta={"source": str(path), "format": fmt.name, "rows": rows,
                              "skipped": skipped, "time_unit": fmt.time_unit})


def _header(path, fmt, first):
    """None when the first line is data; else check it as the header and return
    {column name: field position} (and the field count under "__n__")."""
    is_header = fmt.header == "required" or (fmt.header == "optional" and not first[0].isdigit())
    if not is_header:
        return None
    needed = [c for c in (fmt.user, fmt.item, fmt.behaviour, fmt.timestamp, fmt.category,
                          fmt.value) if c]
    missing = [c for c in needed if c not in first]
    if missing:
        raise DataFormatError(f"{path}, line 1: header lacks column(s) {', '.join(missing)}; "
                              f"the {fmt.name} format has {','.join(fmt.columns)}")
    return {name: i for i, name in enumerate(first)} | {"__n__": len(first)}


def _parse(fmt, index, fields, code):
    """(user, item, behaviour id, category, timestamp, value) of one row; ValueError if bad."""
    n = index.get("__n__", len(fmt.columns))
    if len(fields) != n:
        raise ValueError(f"expected {n} fields, found {len(fields)}")
    get = lambda col: fields[index[col]].strip() if col else None  # noqa: E731
    raw = get(fmt.behaviour)
    if raw not in code:
        raise ValueError(f"unknown behaviour type {raw!r}; the {fmt.name} format knows "
                         f"{', '.join(code)}")
    return (_int(get(fmt.user), fmt.user), _int(get(fmt.item), fmt.item), code[raw],
            _int(get(fmt.category), fmt.category) if fmt.category else 0,
            _int(get(fmt.timestamp), fmt.timestamp) if fmt.timestamp else 0,
            _float(get(fmt.value), fmt.value) if fmt.value else 0.0)


def _int(text, column):
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not an integer") from None
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{column} {text!r} does not fit in 64 bits")
    return value


def _float(text, column):
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a number") from None
