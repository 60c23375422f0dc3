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
  number. Ids may be integers or any strings without spaces (``alice B0001``): each column
  whose ids are not all integers keeps them as strings in its vocabulary. A first line such as
  ``user item`` or ``user_id item_id`` is a header: skipped, and noted in ``meta["header"]``.

``load(path, "auto")`` sniffs the format from the first lines (``sniff``); with a named format
that does not fit, the error adds "did you mean --format X?" when the file looks like another
one. A folder or an unreadable file is a DataFormatError of its own (``check_readable``), and so is
an empty file. An error that names an option of ``load`` names its command-line flag and its
Python keyword: ``--skip-bad-rows (in Python: skip_bad_rows=True)``.

Every loader streams the file line by line (``.gz`` too) into compact typed buffers, so a file
larger than memory allows as text still loads; ids become dense (0 = padding). A malformed row is
a ``DataFormatError`` naming the file and line, unless ``skip_bad_rows=True``: then the row is
dropped and counted in ``table.meta["skipped"]``. Blank lines are ignored.
"""

import gzip
import os
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
    string_ids: bool = False  # user and item ids may be strings

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
    Format("user-item", None, ("user", "item"), "optional", {None: "interact"}, "line",
           user="user", item="item", string_ids=True),
)}
AUTO = "auto"
HEADER_WORDS = ("user", "item", "session")  # a user-item header names its columns


def load(path, format, skip_bad_rows=False):
    """Load ``path`` in the named format (a key of FORMATS, or "auto") into an EventTable."""
    if format != AUTO and format not in FORMATS:
        raise ValueError(f"load: unknown format {format!r}; known: {AUTO}, {', '.join(FORMATS)}")
    path = Path(path)
    check_readable(path)
    if format == AUTO:
        format = sniff(path)
    try:
        return _load(path, FORMATS[format], skip_bad_rows)
    except DataFormatError as exc:
        guess = _guess(path)
        if guess in (None, format):
            raise
        raise DataFormatError(f"{exc}; did you mean {_option('format', guess)}?") from None


def check_readable(path):
    """Raise unless ``path`` is a file this process can read: FileNotFoundError when there is
    nothing there, a DataFormatError for a folder or an unreadable file."""
    path = Path(path)
    if path.is_dir():
        raise DataFormatError(f"{path} is a folder, not a data file")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not os.access(path, os.R_OK):
        raise DataFormatError(f"{path}: cannot be read (permission denied)")


def sniff(path):
    """The format ``path`` looks like, from its first non-blank line; a DataFormatError
    when it looks like none, or has no line at all."""
    first = _first_line(Path(path))
    if not first:
        raise DataFormatError(f"{path}: empty file")
    guess = _looks_like(first)
    if guess is None:
        raise DataFormatError(f"{path}: cannot tell its format from its first line; pass "
                              f"{_option('format', 'NAME')}, NAME one of {', '.join(FORMATS)}")
    return guess


def _option(name, value=True):
    """How to give ``load`` option ``name`` its ``value``: the command line's flag, then the
    Python keyword (a loader's error reaches both kinds of user)."""
    flag = "--" + name.replace("_", "-")
    return f"{flag if value is True else f'{flag} {value}'} (in Python: {name}={value!r})"


def _first_line(path):
    """The first non-blank line, stripped; "" for a file without one."""
    return next((line.strip() for line in _lines(path) if line.strip()), "")


def _guess(path):
    try:
        return _looks_like(_first_line(path))
    except (DataFormatError, OSError):
        return None


def _looks_like(first):
    """The format whose rows look like the line ``first``, or None."""
    fields = [f.strip().lower() for f in first.split(",")]
    if "::" in first:
        return "movielens"
    if "visitorid" in fields or \
            len(fields) == 5 and fields[2] in FORMATS["retailrocket"].behaviours:
        return "retailrocket"
    if "behavior_type" in fields or len(fields) == 5 and fields[3] in FORMATS["taobao"].behaviours:
        return "taobao"
    return "user-item" if len(first.split()) == 2 and "," not in first else None


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
    header = None
    ids = {"user": {}, "item": {}} if fmt.string_ids else None  # raw text -> code
    index = None  # column name -> field position, from the header or from fmt.columns
    for lineno, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split(fmt.sep)
        if index is None:
            index = _header(path, fmt, [f.strip() for f in fields])
            if index is not None:
                header = line.strip()
                continue  # that line was the header
            index = {name: i for i, name in enumerate(fmt.columns)}
        rows += 1
        try:
            rec = _parse(fmt, index, fields, code, ids)
        except ValueError as exc:
            if not skip_bad_rows:
                raise DataFormatError(f"{path}, line {lineno}: {exc}; to skip such rows, pass "
                                      f"{_option('skip_bad_rows')}") from None
            skipped += 1
            continue
        for k, v in zip(("user", "item", "behaviour", "category"), rec):
            cols[k].append(v)
        cols["timestamp"].append(lineno if fmt.timestamp is None else rec[4])
        if fmt.value:
            values.append(rec[5])
    if rows - skipped == 0:
        if not (skipped or header):
            raise DataFormatError(f"{path}: empty file")
        why = f"{skipped} bad rows skipped" if skipped else "only a header line"
        raise DataFormatError(f"{path}: no events ({why})")
    col = {k: np.frombuffer(v, dtype=np.int64) for k, v in cols.items()}
    for k, seen in (ids or {}).items():
        col[k] = _raw_ids(seen)[col[k]]
    meta = {"header": header} if header else {}
    return from_columns(col["user"], col["item"], col["behaviour"], col["timestamp"],
                        behaviour_vocab(names), category=col["category"] if fmt.category else None,
                        value=np.frombuffer(values, np.float64) if fmt.value else None,
                        meta=dict(meta, source=str(path), format=fmt.name, rows=rows,
                                  skipped=skipped, time_unit=fmt.time_unit))


def _raw_ids(seen):
    """The raw ids in code order: integers when every one is, else strings."""
    raw = list(seen)
    try:
        return np.array([int(r) for r in raw], dtype=np.int64)
    except (ValueError, OverflowError):
        return np.array(raw, dtype=str)


def _header(path, fmt, first):
    """None when the first line is data; else check it as the header and return
    {column name: field position} (and the field count under "__n__")."""
    is_header = fmt.header == "required" or fmt.header == "optional" and (
        all(any(w in f.lower() for w in HEADER_WORDS) for f in first) if fmt.string_ids
        else not first[0].isdigit())
    if not is_header:
        return None
    if fmt.string_ids:  # columns by position: the header only names them
        return {name: i for i, name in enumerate(fmt.columns)}
    needed = [c for c in (fmt.user, fmt.item, fmt.behaviour, fmt.timestamp, fmt.category,
                          fmt.value) if c]
    missing = [c for c in needed if c not in first]
    if missing:
        raise DataFormatError(f"{path}, line 1: header lacks column(s) {', '.join(missing)}; "
                              f"the {fmt.name} format has {','.join(fmt.columns)}")
    return {name: i for i, name in enumerate(first)} | {"__n__": len(first)}


def _parse(fmt, index, fields, code, ids=None):
    """(user, item, behaviour id, category, timestamp, value) of one row; ValueError if bad.
    With ``ids`` ({"user": {raw: code}, "item": ...}) user and item are raw text, coded."""
    n = index.get("__n__", len(fmt.columns))
    if len(fields) != n:
        raise ValueError(f"expected {n} fields, found {len(fields)}")
    get = lambda col: fields[index[col]].strip() if col else None  # noqa: E731
    raw = get(fmt.behaviour)
    if raw not in code:
        raise ValueError(f"unknown behaviour type {raw!r}; the {fmt.name} format knows "
                         f"{', '.join(code)}")
    if ids is not None:
        user, item = (ids[k].setdefault(get(c), len(ids[k])) for k, c in
                      (("user", fmt.user), ("item", fmt.item)))
    else:
        user, item = _int(get(fmt.user), fmt.user), _int(get(fmt.item), fmt.item)
    return (user, item, code[raw],
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
