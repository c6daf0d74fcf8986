"""Reference checks of the models: published parameter counts, batched = plain forward."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from grokclaims.data.tasks import TaskSpec, make_dataset
from grokclaims.engine.ensemble import _predicted
from grokclaims.families import ChopraMLP, SongYe, Tutorial, build_member, family_of, shape_of
from grokclaims.families.batched import (
    Layout,
    _operand,
    embed,
    embed_sum,
    gated_silu,
    linear,
    rms_norm,
)
from grokclaims.families.chopra_mlp import layers, network
from grokclaims.families.dropout import MemberDropout


def count(model, task) -> int:
    return sum(p.numel() for p in build_member(model, task, 0).parameters())


# CLAIMS.md, "Setups": the Song & Ye transformer's published counts.
@pytest.mark.parametrize(
    ("p", "dim", "expected"),
    [
        (23, 4, 732),
        (23, 8, 2_488),
        (23, 12, 5_268),
        (23, 16, 9_072),
        (23, 32, 34_528),
        (97, 32, 39_264),
        (97, 128, 550_272),
    ],
)
def test_song_ye_parameter_counts_equal_the_published_ones(p, dim, expected):
    task, model = TaskSpec(p=p), SongYe(dim=dim)
    assert count(model, task) == expected
    assert model.n_params(task) == expected
    v = p + 2  # the closed form of CLAIMS.md
    assert expected == 2 * v * dim + 2 * (16 * dim**2 + 2 * dim) + dim


def test_song_ye_with_heads_has_the_authors_extra_projection():
    task = TaskSpec(p=23)
    one, four = SongYe(dim=32, heads=1), SongYe(dim=32, heads=4)
    assert count(four, task) - count(one, task) == 2 * (32 * 32 + 32)
    assert four.n_params(task) == count(four, task)
    assert SongYe(dim=48, depth=6).n_params(task) == count(SongYe(dim=48, depth=6), task)


@pytest.mark.parametrize(("width", "approx"), [(32, 10_000), (128, 54_000), (512, 412_000)])
def test_chopra_mlp_has_the_sources_size(width, approx):
    task = TaskSpec(p=97, op="+", encoding="one_hot")
    n = count(ChopraMLP(width=width), task)
    assert n == ChopraMLP(width=width).n_params(task)
    assert abs(n - approx) / approx < 0.05  # "approximately 54,000" (10k, 412k for the sweep)


def test_tutorial_transformer_counts_and_layers_start_equal():
    task = TaskSpec(p=97, op="+", encoding="pair_tokens")
    module = build_member(Tutorial(), task, 0)
    assert sum(p.numel() for p in module.parameters()) == Tutorial().n_params(task)
    layers = module.transformer.layers
    assert torch.equal(layers[0].linear1.weight, layers[1].linear1.weight)  # deep-copied layer


def test_derived_sizes_follow_p():
    for p in (5, 23, 97):
        task = TaskSpec(p=p)
        module = build_member(SongYe(dim=8), task, 0)
        assert module.embedding.weight.shape == (p + 2, 8)
        assert module.out.weight.shape == (p + 2, 8)
        mlp = build_member(ChopraMLP(width=8), TaskSpec(p=p, op="+", encoding="one_hot"), 0)
        assert mlp.layers[0].in_features == 2 * p and mlp.layers[-1].out_features == p


def test_init_is_seeded_and_init_scale_multiplies_every_parameter():
    task = TaskSpec(p=23)
    a, b = build_member(SongYe(dim=8), task, 1), build_member(SongYe(dim=8), task, 1)
    c = build_member(SongYe(dim=8), task, 2)
    scaled = build_member(SongYe(dim=8, init_scale=2.0), task, 1)
    for pa, pb, _pc, ps in zip(a.parameters(), b.parameters(), c.parameters(), scaled.parameters()):
        assert torch.equal(pa, pb)
        assert torch.allclose(ps, 2 * pa)
    assert not torch.equal(a.embedding.weight, c.embedding.weight)


CASES = [
    (SongYe(dim=16, dropout=0.0), TaskSpec(p=23)),
    (SongYe(dim=16, heads=4, dropout=0.0), TaskSpec(p=23, op="*")),
    (SongYe(dim=8, depth=3, dropout=0.0), TaskSpec(p=11, encoding="pair_tokens")),
    (ChopraMLP(width=16, depth=3), TaskSpec(p=13, op="+", encoding="one_hot")),
    (Tutorial(dim=16, heads=4, ff=32), TaskSpec(p=13, op="+", encoding="pair_tokens")),
]


@pytest.mark.parametrize(("model", "task"), CASES, ids=lambda c: getattr(c, "family", ""))
def test_batched_forward_equals_the_plain_module_for_every_member(model, task):
    members = [build_member(model, task, seed) for seed in range(3)]
    layout = Layout(members[0])
    flat = torch.stack([layout.flatten(m) for m in members])
    x = make_dataset(task, 0).x_train[:40]
    forward = family_of(model).forward(model, task)
    off = MemberDropout(torch.zeros(3), [torch.Generator() for _ in range(3)])
    out = forward(layout.views(flat), x.expand(3, -1, -1), off)
    for i, module in enumerate(members):
        module.eval()
        assert torch.allclose(out[i], module(x), atol=1e-5)


def test_batched_dropout_is_inverted_dropout_at_the_given_rate():
    h = torch.ones(2, 20_000)
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    drop = MemberDropout(torch.tensor([0.2, 0.0]), gens)
    out = drop(h)
    kept = (out[0] > 0).float().mean().item()
    assert abs(kept - 0.8) < 0.02
    assert torch.allclose(out[0][out[0] > 0], torch.tensor(1.25))
    assert torch.equal(out[1], h[1])  # rate 0: untouched
    again = MemberDropout(
        torch.tensor([0.2, 0.0]), [torch.Generator().manual_seed(s) for s in (0, 1)]
    )
    masked, w = again.before(h, torch.ones(2, 3, 20_000))  # the same mask, scale moved to w
    assert torch.allclose(masked[0] * w[0, 0], out[0])


def test_a_members_dropout_mask_does_not_depend_on_the_other_members():
    h = torch.ones(3, 50, 7)  # 350 units per member: not a multiple of four (a padded draw)
    alone = MemberDropout(torch.tensor([0.3]), [torch.Generator().manual_seed(9)])
    crowd = MemberDropout(
        torch.tensor([0.1, 0.0, 0.3]), [torch.Generator().manual_seed(s) for s in (1, 2, 9)]
    )
    mask = crowd.keep_mask(h)
    assert torch.equal(mask[2], alone.keep_mask(h[:1])[0])
    assert torch.equal(mask[1], torch.ones(50, 7))  # rate 0: everything kept, nothing drawn
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    # 16-bit decisions: P(drop) = round(rate * 2^16) / 2^16, and the kept units' scale undoes it
    k = round(0.3 * 2**16)
    assert crowd.scale[2].item() == pytest.approx(2**16 / (2**16 - k), rel=1e-7)
    big = MemberDropout(torch.tensor([0.3]), [torch.Generator().manual_seed(0)])
    kept = big.keep_mask(torch.ones(1, 400_000)).mean().item()
    assert abs(kept - (1 - k / 2**16)) < 4 * (0.21 / 400_000) ** 0.5  # 4 standard errors


def test_shape_of_drops_member_fields():
    assert shape_of(SongYe(dim=8, dropout=0.1, init_scale=2.0)) == shape_of(SongYe(dim=8))
    assert shape_of(SongYe(dim=8)) != shape_of(SongYe(dim=12))


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: SongYe(dim=10, heads=4), "divisible by heads"),
        (lambda: SongYe(dim=6, heads=2), "odd"),
        (lambda: SongYe(dim=0), "dim"),
        (lambda: SongYe(depth=0), "depth"),
        (lambda: SongYe(dropout=1.0), "dropout"),
        (lambda: SongYe(init_scale=0.0), "init_scale"),
        (lambda: Tutorial(dim=10, heads=4), "divisible by heads"),
        (lambda: ChopraMLP(width=0), "width"),
    ],
)
def test_bad_model_input_raises_with_its_message(factory, field):
    with pytest.raises(ValueError, match=field):
        factory()


def test_the_cpu_embedding_backward_is_torchs_bit_for_bit():
    """``embed`` adds its gradient rows with index_add_ on a CPU (issue 17): the same sums in the
    same order as F.embedding's own backward, so MLP and tutorial runs did not change."""
    g = torch.Generator().manual_seed(0)
    table = torch.randn(5, 33, 16, generator=g, requires_grad=True)
    tokens = torch.randint(0, 33, (5, 4, 465), generator=g)
    grad = torch.randn(5, 4, 465, 16, generator=g)
    (mine,) = torch.autograd.grad(embed(tokens, table), table, grad)
    offsets = (torch.arange(5) * 33).view(-1, 1, 1)
    ref = torch.nn.functional.embedding(tokens + offsets, table.reshape(-1, 16))
    (theirs,) = torch.autograd.grad(ref, table, grad)
    assert torch.equal(mine, theirs)


def test_the_summed_lookup_of_disjoint_columns_is_two_lookups_bit_for_bit():
    """The MLP gathers its one-hot pair (a, p + b) in one summed lookup (issue 17): the same
    sum forward, and, the two columns hitting disjoint rows, the same gradient as two lookups."""
    g = torch.Generator().manual_seed(2)
    table = torch.randn(4, 62, 64, generator=g, requires_grad=True)
    pairs = torch.stack(
        [torch.randint(0, 31, (4, 480), generator=g), torch.randint(31, 62, (4, 480), generator=g)],
        -1,
    )  # (M, B, 2): [a, p + b]
    grad = torch.randn(4, 480, 64, generator=g)
    mine = embed_sum(pairs, table)
    (mine_grad,) = torch.autograd.grad(mine, table, grad)
    rows, index = table.reshape(-1, 64), pairs + (torch.arange(4) * 62).view(-1, 1, 1)
    lookup = torch.nn.functional.embedding
    two = lookup(index[..., 0], rows) + lookup(index[..., 1], rows)  # torch's own backward
    (two_grad,) = torch.autograd.grad(two, table, grad)
    assert torch.equal(mine, two)
    assert torch.equal(mine_grad, two_grad)


@pytest.mark.parametrize(
    ("m", "n", "n_in", "n_out", "bias"),
    [
        (5, 480, 64, 31, True),  # an MLP's read-out to p = 31
        (5, 423, 6, 6, False),  # Song & Ye, dim 6
        (3, 502, 10, 25, True),
        (1, 7, 64, 64, False),
    ],
)
def test_linear_is_x_times_w_transposed_with_its_gradients(m, n, n_in, n_out, bias):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(m, n, n_in, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(m, n_out, n_in, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(m, n_out, generator=g, dtype=torch.float64) if bias else None
    inputs = (x, w) if b is None else (x, w, b.requires_grad_())
    assert torch.autograd.gradcheck(linear, inputs, fast_mode=True)
    ref = torch.bmm(x, w.mT) if b is None else torch.baddbmm(b.unsqueeze(1), x, w.mT)
    torch.testing.assert_close(linear(*inputs), ref, rtol=1e-12, atol=1e-12)


# Shapes whose products MKL rounded differently by place in the batch or by address (issue 17):
# a weight gradient (25 x 502) @ (502 x 10), a forward (423 x 6) @ (6 x 6), an input gradient
# to 6 features.
@pytest.mark.parametrize(("n", "n_in", "n_out"), [(502, 10, 25), (423, 6, 6), (465, 6, 16)])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_members_product_and_gradients_do_not_depend_on_its_place_in_the_batch(
    n, n_in, n_out, threads
):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, n, n_in, generator=g)
    w = torch.randn(5, n_out, n_in, generator=g)
    grad = torch.randn(5, n, n_out, generator=g)

    def run(x, w, grad):
        x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
        y = linear(x, w)
        return (y, *torch.autograd.grad(y, (x, w), grad))

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        crowd = run(x, w, grad)
        for i in range(5):  # alone: fresh tensors, at the allocator's own addresses
            torch.set_num_threads(1)  # as train_ensemble does for a lone member
            alone = run(x[i : i + 1], w[i : i + 1], grad[i : i + 1])
            torch.set_num_threads(threads)
            for a, c in zip(alone, crowd):
                assert torch.equal(a[0], c[i]), f"member {i}"
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("width", "depth", "rates", "n"),
    [
        (64, 2, (0.0, 0.0, 0.0), 480),  # the benchmark's case (b), 3 of its members
        (24, 3, (0.1, 0.0, 0.4), 64),  # deeper, members with and without dropout, a mini-batch
        (13, 1, (0.2, 0.2, 0.2), 35),  # odd width, a single hidden layer
    ],
)
def test_the_mlp_network_computes_the_bits_of_the_layer_by_layer_forward(width, depth, rates, n):
    """The CPU's hand-written network (one autograd node) against the layers and autograd:
    the same logits, the same gradient of every parameter, the same dropout draws."""
    task = TaskSpec(p=31, op="+", encoding="one_hot")
    model = ChopraMLP(width=width, depth=depth)
    members = [build_member(model, task, seed) for seed in range(3)]
    layout = Layout(members[0])
    flat = torch.stack([layout.flatten(m) for m in members])
    x = torch.stack([make_dataset(task, seed).x_train[:n] for seed in range(3)])  # (3, n, 2)
    y = torch.stack([make_dataset(task, seed).y_train[:n] for seed in range(3)])
    out, generators = [], []

    for forward in (layers, network):
        gens = [torch.Generator().manual_seed(10 + i) for i in range(3)]
        drop = MemberDropout(torch.tensor(rates), gens)
        params = flat.clone().requires_grad_()
        logits = forward(layout.views(params), x, drop, depth)
        loss = F.cross_entropy(logits.reshape(-1, 31), y.reshape(-1), reduction="sum")
        out.append((logits.detach(), *torch.autograd.grad(loss, params)))
        generators.append([g.get_state() for g in gens])
    for by_layers, by_network in zip(*out):
        assert torch.equal(by_layers, by_network)
    assert all(torch.equal(a, b) for a, b in zip(*generators))
    assert out[0][1].abs().sum() > 0  # a gradient there is to compare


def test_the_predicted_class_is_argmaxs_with_ties_and_nan():
    g = torch.Generator().manual_seed(7)
    logits = torch.randint(-2, 2, (3, 400, 31), generator=g).float()  # many ties
    logits[0, :50, 5] = float("nan")
    logits[1, :50] = float("nan")
    logits[2, :50, 9] = float("inf")
    logits[2, 40:60, 3] = float("-inf")
    assert torch.equal(_predicted(logits), logits.argmax(-1))


def test_operands_are_padded_to_multiples_of_8_features_at_64_byte_boundaries():
    t = torch.randn(3, 423, 6)
    out = _operand(t, 2)
    assert out.shape == (3, 423, 8)
    assert torch.equal(out[..., :6], t) and not out[..., 6:].any()
    assert out.stride(0) % 16 == 0 and out.data_ptr() % 64 == 0
    assert out[1].is_contiguous()
    fine = torch.randn(3, 465, 16)  # already so: no copy
    assert _operand(fine, 2) is fine


def test_gated_silu_is_silu_times_the_gate_with_its_gradients():
    g = torch.Generator().manual_seed(5)
    a = torch.randn(2, 3, 7, dtype=torch.float64, generator=g, requires_grad=True) * 4
    b = torch.randn(2, 3, 7, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(gated_silu, (a.detach().requires_grad_(), b))
    torch.testing.assert_close(gated_silu(a, b), F.silu(a) * b, rtol=1e-12, atol=1e-12)


def test_gated_silu_rounds_an_element_alike_wherever_it_lies():
    """PyTorch's silu rounds the last elements of each thread's share with another exp than the
    rest; a member's units land there or not depending on the ensemble (issue 17)."""
    g = torch.Generator().manual_seed(6)
    a = torch.randn(4099, generator=g) * 3
    b = torch.randn(4099, generator=g)
    gout = torch.randn(4099, generator=g)

    def run(a, b, gout):
        a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
        y = gated_silu(a, b)
        return (y, *torch.autograd.grad(y, (a, b), gout))

    whole = run(a, b, gout)
    plain_differs = False
    for start in range(1, 17):
        part = run(a[start:], b[start:], gout[start:])
        assert all(torch.equal(p, w[start:]) for p, w in zip(part, whole))
        plain_differs |= not torch.equal(F.silu(a[start:]), F.silu(a)[start:])
    assert plain_differs  # the hazard this guards against is there in torch's own silu


def test_rms_norm_backward_is_the_gradient_of_its_forward():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 2, 5, 8, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(3, 8, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w: rms_norm(x, w), (x, w))
    plain = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w.view(3, 1, 1, 8)
    assert torch.allclose(rms_norm(x, w), plain, rtol=1e-12, atol=0)
