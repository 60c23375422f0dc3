"""What a checkpoint keeps about its data: the content hash of the data file, the data's
record and the vocabularies from raw ids to dense ones."""

import hashlib
from dataclasses import replace

import numpy as np

from minseq.data import generate
from minseq.tasks.provenance import data_of, sha256, vocab_arrays


def test_the_data_hash_is_that_of_every_byte_across_chunks(tmp_path):
    data = bytes(range(256)) * ((1 << 20) // 256 + 3)        # a little over one 1 MiB chunk
    (tmp_path / "d").write_bytes(data)
    assert sha256(tmp_path / "d") == hashlib.sha256(data).hexdigest()
    (tmp_path / "e").write_bytes(b"")
    assert sha256(tmp_path / "e") == hashlib.sha256(b"").hexdigest()


def test_the_data_record_is_the_command_lines_else_the_tables_source():
    log = generate(n_users=5, n_items=30, seed=1)
    assert data_of(log) == {"source": "synthetic(seed=1)"}
    given = {"path": "ub.csv", "format": "taobao", "sha256": "ab"}
    kept = replace(log, meta=dict(log.meta, data=given))
    assert data_of(kept) == given and data_of(kept) is not given
    assert data_of(replace(log, meta={})) == {"source": None}


def test_the_vocabularies_are_the_tables_raw_ids_with_strings_for_objects():
    log = generate(n_users=5, n_items=30, seed=1)
    got = vocab_arrays(log)
    assert set(got) == {"vocab/user", "vocab/item", "vocab/category", "vocab/behaviour"}
    for name in ("user", "item", "category"):
        assert np.array_equal(got[f"vocab/{name}"], getattr(log, f"{name}_vocab"))
    assert got["vocab/behaviour"].tolist() == list(log.behaviour_names)
    raw = replace(log, item_vocab=np.array([0] + [f"B{i:03d}" for i in range(1, 31)],
                                           dtype=object), category_vocab=None)
    got = vocab_arrays(raw)
    assert "vocab/category" not in got and got["vocab/item"].dtype.kind == "U"
    assert got["vocab/item"][:2].tolist() == ["0", "B001"]
    assert got["vocab/user"].dtype == log.user_vocab.dtype
