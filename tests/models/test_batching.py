"""Length-sorted batching shared by the dense and causal-LM families."""

from followir.models.batching import length_batches as batches


def test_token_budget_batches_pad_to_the_first_item():
    lengths = [100, 90, 40, 30, 30, 10]
    got = list(batches(lengths, max_tokens=200, max_batch=32))
    # 2 x 100 fits, 3 x 100 does not; 40-wide batch holds 5 but only 4 remain
    assert got == [[0, 1], [2, 3, 4, 5]]
    assert all(len(b) * lengths[b[0]] <= 200 for b in got)
    assert list(batches(lengths, max_tokens=0, max_batch=4)) == [[0, 1, 2, 3], [4, 5]]
    # an item longer than the budget still goes, alone
    assert list(batches([500, 5], max_tokens=100, max_batch=8)) == [[0], [1]]
