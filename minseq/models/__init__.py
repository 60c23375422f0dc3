"""The behaviour models, each a Module with a hand-written backward composed from the layers,
trainable with minseq.train.Trainer (``loss(batch)`` / ``backward_loss()``)."""
