"""Pure helpers of the training loop: length-grouped micro-batches, precision choice."""

import pytest

from followir.errors import FollowIRError
from followir.train.loop import TrainConfig, micro_batches, resolve_precision


def test_micro_batches_group_by_length_and_keep_every_example_once():
    lengths = [300, 120, 290, 130, 310, 125, 280, 140]
    chunk = [0, 1, 2, 3, 4, 5, 6, 7]
    got = micro_batches(chunk, lengths, 4)
    assert got == [[1, 5, 3, 7], [6, 2, 0, 4]]  # short ones together, long ones together
    assert sorted(i for b in got for i in b) == chunk


def test_micro_batches_pad_less_than_arrival_order():
    lengths = [300, 120, 290, 130, 310, 125, 280, 140]
    chunk = list(range(8))

    def padded(batches):
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)

    arrival = [chunk[k : k + 4] for k in range(0, 8, 4)]
    assert padded(micro_batches(chunk, lengths, 4)) < padded(arrival)


def test_micro_batches_last_batch_may_be_short():
    assert micro_batches([2, 0, 1], [5, 3, 4], 2) == [[1, 2], [0]]  # lengths 3, 4 | 5


def test_explicit_precision_is_kept_and_bad_one_refused():
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cpu") in ("bf16", "fp32")
    with pytest.raises(FollowIRError, match="precision"):
        TrainConfig(precision="fp8").validate()


def test_epoch_order_keeps_contrast_groups_together():
    """With groups, both instruction versions of a document are adjacent in the epoch order
    (so they share an optimizer step); without, the order is a plain permutation."""
    from followir.train.loop import _batches_of_epoch

    groups = [0, 1, 2, 0, 1, 2, 3, 3]
    order = _batches_of_epoch(len(groups), seed=0, epoch=0, groups=groups)
    assert sorted(order) == list(range(len(groups)))
    for k in range(0, len(order), 2):
        assert groups[order[k]] == groups[order[k + 1]]
    assert _batches_of_epoch(8, 0, 1, groups) != _batches_of_epoch(8, 0, 0, groups)
    assert sorted(_batches_of_epoch(8, seed=0, epoch=0)) == list(range(8))


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_checkpoints_below_one_is_refused(keep):
    # [: -keep] with keep=0 would prune nothing; with keep=-1 it would prune the oldest only
    with pytest.raises(FollowIRError, match="--keep-checkpoints must be >= 1"):
        TrainConfig(keep_checkpoints=keep).validate()
    TrainConfig(keep_checkpoints=1).validate()


def test_rank_loss_pairs_only_within_a_query_instruction():
    """Hand-computed: key 0 has pos z=2 and neg z=0 -> softplus(0 - 2); key 1 has pos z=1
    and negs z=1, z=3 -> softplus(0), softplus(2).  Rows of different keys never pair."""
    import math

    import torch

    from followir.train.loop import rank_loss

    z = torch.tensor([2.0, 0.0, 1.0, 1.0, 3.0])
    labels = [1, 0, 1, 0, 0]
    keys = [0, 0, 1, 1, 1]

    def sp(x):
        return math.log1p(math.exp(x))

    expected = (sp(-2.0) + sp(0.0) + sp(2.0)) / 3
    assert float(rank_loss(z, labels, keys)) == pytest.approx(expected, rel=1e-6)
    # the same rows under one key would also pair z=2 with the negs of key 1
    assert float(rank_loss(z, labels, [0] * 5)) != pytest.approx(expected, rel=1e-3)
    assert rank_loss(z, [1, 1, 0, 0, 0], [0, 0, 1, 1, 1]) is None  # no pos/neg inside a key


def test_rank_loss_gradient_pushes_the_excluded_passage_down():
    import torch

    from followir.train.loop import rank_loss

    z = torch.tensor([0.5, 1.5], requires_grad=True)  # kept passage, excluded passage (ranked higher)
    rank_loss(z, [1, 0], [7, 7]).backward()
    assert z.grad[0] < 0 < z.grad[1]  # descent raises the kept one, lowers the excluded one


def test_rank_weight_must_be_non_negative():
    with pytest.raises(FollowIRError, match="rank-weight"):
        TrainConfig(rank_weight=-1.0).validate()
    TrainConfig(rank_weight=0.5).validate()


def test_contrast_loss_is_the_hand_computed_difference_in_differences():
    """Query 0, instructions 10 (original) and 11 (altered).  Passage 1 is kept (1 -> 1,
    D = 2 - 1 = 1), passage 2 is excluded (1 -> 0, D = 3 - 0 = 3), passage 3 is off topic
    (0 -> 0, D = -1 - -2 = 1).  Pairs (excluded over kept) and (excluded over off topic):
    softplus(1 - 3) twice.  A passage under one instruction only, and another query's
    passages, form no pair with them."""
    import math

    import torch

    from followir.train.loop import contrast_loss

    z = torch.tensor([2.0, 1.0, 3.0, 0.0, -1.0, -2.0, 5.0, 9.0, -9.0])
    labels = [1, 1, 1, 0, 0, 0, 1, 1, 0]
    keys = [(0, 1, 10), (0, 1, 11), (0, 2, 10), (0, 2, 11), (0, 3, 10), (0, 3, 11), (0, 4, 10),
            (1, 5, 10), (1, 5, 11)]
    expected = math.log1p(math.exp(-2.0))
    assert float(contrast_loss(z, labels, keys)) == pytest.approx(expected, rel=1e-6)
    assert contrast_loss(z[:2], labels[:2], keys[:2]) is None  # one passage: nothing to compare


def test_contrast_loss_ignores_what_a_passage_or_an_instruction_adds_everywhere():
    """Shifting every score of one passage (its own strength), or every score under one
    instruction (the instruction's offset), leaves the term unchanged: only the
    interaction between passage and instruction is trained."""
    import torch

    from followir.train.loop import contrast_loss

    labels = [1, 1, 1, 0, 0, 0]
    keys = [(0, 1, 10), (0, 1, 11), (0, 2, 10), (0, 2, 11), (0, 3, 10), (0, 3, 11)]
    z = torch.tensor([2.0, 1.0, 3.0, 0.0, -1.0, -2.0])
    base = float(contrast_loss(z, labels, keys))
    passage = z + torch.tensor([0.0, 0.0, 4.0, 4.0, 0.0, 0.0])
    instruction = z + torch.tensor([0.0, -3.0, 0.0, -3.0, 0.0, -3.0])
    assert float(contrast_loss(passage, labels, keys)) == pytest.approx(base, rel=1e-6)
    assert float(contrast_loss(instruction, labels, keys)) == pytest.approx(base, rel=1e-6)
    z = z.clone().requires_grad_(True)
    contrast_loss(z, labels, keys).backward()
    # descent (against the gradient) lowers the excluded passage under the altered instruction,
    # raises it under the original one, and raises the kept passage under the altered one
    assert z.grad[1] < 0 < z.grad[3]
    assert z.grad[2] < 0


def test_contrast_weight_must_be_non_negative():
    with pytest.raises(FollowIRError, match="contrast-weight"):
        TrainConfig(contrast_weight=-0.5).validate()
    TrainConfig(contrast_weight=2.0).validate()


def test_step_units_share_a_prefix_per_key_and_keep_every_row_once():
    from followir.train.loop import step_units

    lengths = [50, 40, 30, 20, 10, 60]
    keys = [7, 7, 8, 7, 9, 8]  # key 9 has one row: it joins the plain micro-batches
    units = step_units([0, 1, 2, 3, 4, 5], lengths, 2, keys)
    assert ([0, 1, 3], True) in units and ([2, 5], True) in units
    assert ([4], False) in units and len(units) == 3
    assert sorted(i for rows, _ in units for i in rows) == list(range(6))
    # without keys: exactly the length-sorted micro-batches
    assert step_units([0, 1, 2, 3], lengths, 2, None) == [([3, 2], False), ([1, 0], False)]
