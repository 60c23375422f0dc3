"""Atomic file writes: a crash mid-write never leaves a half-written file at the target path.

    with atomic_write("out/model.npz") as f:     # binary; atomic_write(path, "w") for text
        numpy.savez(f, **arrays)

``next_run_folder(base)`` names a fresh ``base/run-N`` folder; ``write_csv`` writes columns,
``write_json`` a JSON document; ``can_write_in(folder)`` tells, before any work, whether an
output can be written there.

The content goes to a temporary file in the target's folder, is flushed to disk, and is renamed
over the target only when the block ends without an error; on an error the temporary file is
removed and the previous file, if any, is left as it was.
"""

import contextlib
import csv
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Yield a file object (``mode`` "wb" or "w") whose content replaces ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; results are for everyone
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


#: the name every probe of ``can_write_in`` begins with (a file that lives for a moment)
PROBE_PREFIX = ".minseq-probe."


def can_write_in(folder):
    """Whether a file can be created in the existing ``folder``. Tried (a temporary file,
    removed at once), not read off permission bits: those say yes to root everywhere, and say
    nothing of a file system that refuses new files to all (``/proc``)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(tmp)
    return True


def next_run_folder(base):
    """``base/run-N`` for the first N = 1, 2, ... not yet taken, so runs never overwrite."""
    base = Path(base)
    n = 1
    while (base / f"run-{n}").exists():
        n += 1
    return base / f"run-{n}"


def write_csv(path, columns):
    """Write {name: list of values} as a CSV file (a header, one row per index), atomically."""
    with atomic_write(path, "w") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values()))


def write_json(path, payload):
    """Write ``payload`` as JSON atomically (keys sorted, indented)."""
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2, sort_keys=True)
