"""PyTorch's training epochs on the very run ``minseq train`` makes: the same data, batches,
model (its counterpart, minseq.bench.torch_models, with the same first weights), optimiser and
clipping; timed as minseq's progress line times an epoch (the PyTorch side of
``benchmarks/data_parallel.py``, run by ``benchmarks/pytorch_epochs.py``).

    training = training_run(run, table)       # run: a RunSettings; table: the event table
    rates = epoch_rates(torch, torch_model(training.net), training)

``epoch_rates`` gives the examples/s of each epoch's training pass: the examples over the time
from the epoch's start to its last step, as ``minseq.train.Progress``. Every step is minseq's
Trainer's: the loss of the batch (read on the host, as the Trainer reads it), its gradients,
the clipping of their global norm where the model's settings clip, and one Adam step with
minseq's learning rate, betas and eps.
"""

import math
import re
import time
from typing import NamedTuple

from .. import backend
from ..data.tasks import NEXT_ITEM
from ..tasks import next_behaviour, next_item
from ..tasks.evaluation import Protocol


class TrainingRun(NamedTuple):
    """What a ``minseq train`` run trains: its minseq model (freshly built), its training
    batches (host arrays), its optimiser (minseq's, for its settings), the global norm it clips
    gradients to (None: no clipping) and its epochs."""
    net: object
    batches: object
    optimizer: object
    clip: object
    epochs: int


def training_run(run, table):
    """The TrainingRun of ``run`` (a RunSettings of a trained model, one fold) on ``table``,
    built as the task pipelines build it (minseq.tasks.next_item.train,
    minseq.tasks.next_behaviour.train)."""
    spec = run.spec
    if run.task is NEXT_ITEM:
        run = next_item.for_catalogue(run, table)
        s = dict(run.model_settings, seed=run.seed)
        backend.manual_seed(run.seed)
        protocol = Protocol(table, s["maxlen"], n_negatives=s["negatives"], seed=run.seed)
        batches = next_item.training_batches(protocol.train_sequences, s["maxlen"],
                                             s["batch_size"], run.seed)
        sizes, optimizer_for = dict(n_items=table.n_items), next_item.optimizer_for
    else:
        s = run.model_settings
        clock = next_behaviour.clock_of(table, run.task)
        train = next_behaviour.windows(next_behaviour.split(table, run.seed)[0], run.task, s,
                                       clock)
        batches = next_behaviour.training_batches(train, s, run.seed)
        sizes, optimizer_for = next_behaviour.sizes(table, run.task), next_behaviour.optimizer_for
        backend.manual_seed(run.seed)
    net = spec.cls(**spec.kwargs(s, **sizes))
    net.astype(run.dtype)
    return TrainingRun(net, batches, optimizer_for(net, s), s["clip"], s["epochs"])


def epoch_rates(torch, net, training):
    """Train the PyTorch model ``net`` for ``training.epochs`` epochs over ``training.batches``
    with the optimiser and clipping of ``training`` (a TrainingRun); the examples/s of each
    epoch's training pass."""
    adam = training.optimizer
    if adam.weight_decay:
        raise ValueError(f"epoch_rates: minseq's optimiser has weight decay {adam.weight_decay}, "
                         f"which the PyTorch side does not mirror")
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=adam.lr, betas=adam.betas, eps=adam.eps)
    rates = []
    for epoch in range(1, training.epochs + 1):
        net.train()
        examples, t0 = 0, time.perf_counter()
        for step, batch in enumerate(training.batches, 1):
            optimizer.zero_grad(set_to_none=True)
            loss = net.loss(tuple(torch.from_numpy(a) for a in batch))
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(f"epoch_rates: the loss is {value} at epoch {epoch}, "
                                         f"step {step}")
            loss.backward()
            if training.clip is not None:
                torch.nn.utils.clip_grad_norm_(params, training.clip)
            optimizer.step()
            examples += len(batch[0])
        rates.append(examples / max(time.perf_counter() - t0, 1e-9))
    return rates


def torch_build(torch):
    """{"version", "blas", "cpu_capability"}: the PyTorch that ran, the BLAS it was built with
    (its build settings' BLAS_INFO) and the vector code path it took on this CPU."""
    blas = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return {"version": torch.__version__, "blas": blas.group(1) if blas else "unknown",
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
