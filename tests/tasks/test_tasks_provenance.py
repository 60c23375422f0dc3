"""What a checkpoint keeps about its data: the content hash of the data file."""

import hashlib

from minseq.tasks.provenance import sha256


def test_the_data_hash_is_that_of_every_byte_across_chunks(tmp_path):
    data = bytes(range(256)) * ((1 << 20) // 256 + 3)        # a little over one 1 MiB chunk
    (tmp_path / "d").write_bytes(data)
    assert sha256(tmp_path / "d") == hashlib.sha256(data).hexdigest()
    (tmp_path / "e").write_bytes(b"")
    assert sha256(tmp_path / "e") == hashlib.sha256(b"").hexdigest()
