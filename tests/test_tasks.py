"""Reference checks of the tasks: labels, splits, encodings, random data, bad input."""

from __future__ import annotations

import pytest
import torch

from grokclaims.data.tasks import (
    OPS,
    TaskSpec,
    apply_op,
    decode,
    encode,
    make_dataset,
    modular_inverse,
    one_hot,
    operands,
)


def closed_form(a: int, b: int, p: int, op: str) -> int:
    if op == "+":
        return (a + b) % p
    if op == "-":
        return (a - b) % p
    if op == "*":
        return (a * b) % p
    return (a * pow(b, -1, p)) % p  # Python's modular inverse


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("p", [5, 23])
def test_labels_equal_closed_form(p, op):
    a, b = operands(p, op)
    y = apply_op(a, b, p, op)
    expected = [closed_form(int(i), int(j), p, op) for i, j in zip(a, b)]
    assert y.tolist() == expected
    assert len(expected) == (p * (p - 1) if op == "/" else p * p)
    if op == "/":
        assert int(b.min()) == 1  # division skips b = 0


def test_modular_inverse_is_an_inverse():
    p = 97
    b = torch.arange(1, p)
    assert ((b * modular_inverse(b, p)) % p).tolist() == [1] * (p - 1)


@pytest.mark.parametrize("split", ["random", "sequential", "alternating"])
@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.9])
@pytest.mark.parametrize("op", ["+", "/"])
def test_splits_disjoint_cover_and_follow_alpha(split, alpha, op):
    task = TaskSpec(p=11, op=op, alpha=alpha, split=split)
    ds = make_dataset(task, seed=3)
    train = {tuple(r) for r in ds.x_train.tolist()}
    val = {tuple(r) for r in ds.x_val.tolist()}
    assert not train & val
    a, b = operands(task.p, op)
    assert train | val == {tuple(r) for r in encode(a, b, task).tolist()}
    assert len(train) == int(alpha * task.n_pairs) == task.n_train
    assert len(val) == task.n_val


def test_sequential_and_alternating_hold_out_residues_of_b():
    seq = make_dataset(TaskSpec(p=11, op="+", alpha=0.5, split="sequential"), 0)
    b_train, b_val = seq.x_train[:, 2], seq.x_val[:, 2]
    assert int(b_train.max()) <= int(b_val.min())  # later residues of b are held out
    alt = make_dataset(TaskSpec(p=11, op="+", alpha=6 * 11 / 121, split="alternating"), 0)
    assert set(alt.x_train[:, 2].tolist()) == {0, 2, 4, 6, 8, 10}
    assert set(alt.x_val[:, 2].tolist()) == {1, 3, 5, 7, 9}


@pytest.mark.parametrize("encoding", ["op_tokens", "pair_tokens", "one_hot"])
def test_encodings_round_trip(encoding):
    task = TaskSpec(p=13, op="-", encoding=encoding)
    a, b = operands(13, "-")
    x = encode(a, b, task)
    assert x.shape[1] == task.seq_len
    assert int(x.max()) < task.vocab_size
    a2, b2 = decode(x, task)
    assert torch.equal(a, a2) and torch.equal(b, b2)
    if encoding == "one_hot":
        dense = one_hot(x, 13)
        assert dense.shape == (len(a), 26)
        assert dense.sum(1).tolist() == [2.0] * len(a)
        assert torch.equal(dense[:, :13].argmax(1), a)
        assert torch.equal(dense[:, 13:].argmax(1), b)


def test_token_layout_of_the_sources():
    a, b = torch.tensor([3]), torch.tensor([4])
    assert encode(a, b, TaskSpec(p=7, op="+")).tolist() == [[3, 7, 4, 8]]  # [a, op, b, =]
    assert encode(a, b, TaskSpec(p=7, op="+", encoding="pair_tokens")).tolist() == [[3, 4, 7]]
    assert TaskSpec(p=7).vocab_size == 9
    assert TaskSpec(p=7, encoding="pair_tokens").vocab_size == 8
    assert TaskSpec(p=7, encoding="one_hot").vocab_size == 14


def test_random_targets_have_equivalent_complexity_and_are_uniform():
    task = TaskSpec(p=23, op="/", data="random")
    ds = make_dataset(task, 0)
    assert len(ds.y_train) == int(0.5 * 23 * 22) == 253  # floor(alpha · n_pairs)
    assert ds.x_train.shape == (253, 4) and len(ds.y_val) == 0
    big = make_dataset(TaskSpec(p=23, data="random", n=50_000), 1)
    counts = torch.bincount(big.y_train, minlength=25).float()
    assert counts.numel() == 25  # targets span the whole vocabulary p + 2
    assert float(counts.std() / counts.mean()) < 0.05
    assert torch.bincount(big.x_train.reshape(-1), minlength=25).numel() == 25


def test_shuffled_labels_keep_the_inputs_and_the_label_counts():
    task = TaskSpec(p=13, op="*")
    real = make_dataset(task, 5)
    shuffled = make_dataset(task.replace(data="shuffled"), 5)
    assert torch.equal(real.x_train, shuffled.x_train)
    assert torch.equal(real.y_train.sort().values, shuffled.y_train.sort().values)
    assert not torch.equal(real.y_train, shuffled.y_train)


def test_dataset_is_a_pure_function_of_spec_and_seed():
    task = TaskSpec(p=17, op="+")
    torch.manual_seed(0)
    a = make_dataset(task, 7)
    torch.manual_seed(123)  # the global RNG plays no part
    b = make_dataset(task, 7)
    c = make_dataset(task, 8)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.x_train, c.x_train)


def test_derived_values_follow_p():
    for p in (5, 23, 97):
        t = TaskSpec(p=p, op="+")
        assert t.n_pairs == p * p and t.vocab_size == p + 2 and t.n_classes == p + 2
        assert t.replace(encoding="pair_tokens").n_classes == p
        assert TaskSpec(p=p, op="/").n_pairs == p * (p - 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p": 9}, "p"),
        ({"p": 2}, "p"),
        ({"p": 1}, "p"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": -0.2}, "alpha"),
        ({"op": "^"}, "op"),
        ({"split": "blocks"}, "split"),
        ({"encoding": "ascii"}, "encoding"),
        ({"data": "noise"}, "data"),
        ({"n": 10}, "n"),
    ],
)
def test_bad_task_input_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"TaskSpec\.{field}"):
        TaskSpec(**kwargs)
