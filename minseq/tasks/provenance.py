"""What a checkpoint keeps about its data, so it stands alone: where the data came from (path,
format, a content hash, or the synthetic log's sizes) and the vocabularies from raw ids to the
dense ids the model was trained on.

    data_of(table)      -> {"source", "format", "sha256", ...}   (JSON, in the config)
    vocab_arrays(table) -> {"vocab/user": ..., "vocab/item": ..., ...}   (arrays in the archive)

The vocabularies are arrays (raw integers or strings), so ``minseq recommend`` maps a raw user
or item id in and raw item ids out without the data file.
"""

import hashlib

import numpy as np

VOCABULARIES = ("user", "item", "category")


def sha256(path):
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_of(table):
    """The table's provenance: ``meta["data"]`` as the command line set it (path, format,
    skip_bad_rows, a content hash; or the synthetic log's sizes), else its source."""
    return dict(table.meta.get("data") or {"source": table.meta.get("source")})


def vocab_arrays(table):
    """{"vocab/user", "vocab/item", "vocab/category" (when present), "vocab/behaviour"}: index
    i holds the raw id of dense id i (0 = padding)."""
    arrays = {f"vocab/{name}": np.asarray(getattr(table, f"{name}_vocab"))
              for name in VOCABULARIES if getattr(table, f"{name}_vocab") is not None}
    arrays["vocab/behaviour"] = np.array(table.behaviour_names)
    return {k: v.astype(str) if v.dtype.kind == "O" else v for k, v in arrays.items()}
