"""Fast twin of Dropout: the same masks when its layer runs on batch shards."""

from .. import nn
from .accelerate import twin
from .shards import current_shard


@twin(nn.Dropout)
class Dropout(nn.Dropout):
    """``nn.Dropout`` that, inside a batch shard (``minseq.fast.shards``), keeps its rows of the
    mask that its layer's own Dropout draws for the whole batch: a sharded layer then drops
    exactly what the unsharded one drops. Outside a shard it is ``nn.Dropout``."""

    def draw_keep(self, shape, dtype):
        shard = current_shard()
        if shard is None:
            return super().draw_keep(shape, dtype)
        return shard.keep_rows(self, shape, dtype)
