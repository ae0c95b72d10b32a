"""Length-sorted batching shared by the model families.

Rows are taken longest first and a batch is capped by its *padded* size (rows x its first,
longest row), so padding stays small and a batch's activations fit the budget the caller
chose: the causal LM's token budget (``llm.py``) and the bi-encoders' ``max_batch_tokens``
(``dense.py``) are the same mechanism.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def length_batches(lengths: Sequence[int], max_tokens: int, max_batch: int) -> Iterator[list[int]]:
    """Indices grouped into batches, longest first, so that rows x longest row stays within
    ``max_tokens`` (one over-long row still gets a batch of its own; ``max_tokens <= 0``: no
    token budget, only ``max_batch``)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batch: list[int] = []
    for i in order:
        width = lengths[batch[0]] if batch else lengths[i]
        if batch and ((0 < max_tokens < (len(batch) + 1) * width) or len(batch) >= max_batch):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def padded_batches(
    lengths: Sequence[int], max_tokens: int, max_batch: int, max_pad: float
) -> Iterator[list[int]]:
    """Like :func:`length_batches`, and a row joins a batch only while padding stays within
    ``max_pad`` of the batch's tokens (``max_pad=0``: rows of equal length only)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batch: list[int] = []
    real = 0
    for i in order:
        if batch:
            rows, width = len(batch) + 1, lengths[batch[0]]
            cells = rows * width
            if cells > max_tokens or rows > max_batch or cells - real - lengths[i] > max_pad * cells:
                yield batch
                batch, real = [], 0
        batch.append(i)
        real += lengths[i]
    if batch:
        yield batch
