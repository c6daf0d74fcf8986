"""What the batched forwards of the families are made of: M models of one architecture as one.

Parameters of the M members live in one flat ``(M, P)`` tensor (rows = members, columns = the
parameters of the family's reference module in registration order; :class:`Layout`). Each
forward splits it into named views ``(M, *shape)``, so autograd returns the whole ``(M, P)``
gradient with one concatenation and the optimiser updates every parameter of every member in a
handful of whole-tensor operations.

Layers use ``bmm`` with the member as batch dimension, so a member's numbers never mix with
another's, laid out so that they round alike wherever the member lies (:func:`linear`).
Dropout is :mod:`grokclaims.families.dropout`. Shapes in comments: M members, B examples,
S positions, d width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from grokclaims.families.dropout import MemberDropout
from grokclaims.families.layers import rotary_tables

Params = dict[str, torch.Tensor]  # name -> (M, *shape) views of the members' flat parameters


class Layout:
    """Names and shapes of one architecture's parameters, and their place in the flat row."""

    def __init__(self, module: nn.Module):
        self.names = [n for n, _ in module.named_parameters()]
        self.shapes = [tuple(p.shape) for _, p in module.named_parameters()]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.n_params = sum(self.sizes)

    def flatten(self, module: nn.Module) -> torch.Tensor:
        """One module's parameters -> a (P,) row."""
        return torch.cat([p.detach().reshape(-1) for p in module.parameters()])

    def views(self, flat: torch.Tensor) -> Params:
        """(M, P) -> {name: (M, *shape)} views (differentiable)."""
        m = flat.shape[0]
        pieces = flat.split(self.sizes, dim=1)
        return {n: t.view(m, *s) for n, t, s in zip(self.names, pieces, self.shapes)}

    def load_into(self, module: nn.Module, row: torch.Tensor) -> nn.Module:
        """Copy a (P,) row into a plain module (to evaluate or inspect one member)."""
        with torch.no_grad():
            for p, piece, s in zip(module.parameters(), row.split(self.sizes), self.shapes):
                p.copy_(piece.view(s))
        return module


# --- batched building blocks ---------------------------------------------------------------


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """x (M, ..., in) @ w (M, out, in)^T + b (M, out) -> (M, ..., out)."""
    m, shape = x.shape[0], x.shape[1:-1]
    x = x.reshape(m, -1, x.shape[-1])
    y = _linear_op(x, w, b) if torch.compiler.is_compiling() else _Linear.apply(x, w, b)
    return y.view(m, *shape, w.shape[1])


def sum_examples(t: torch.Tensor) -> torch.Tensor:
    """t (M, N, d) summed over its examples N -> (M, d): a member's sum over its own examples.

    In a compiled forward, an operator of its own computed as the eager ``sum`` does: a
    compiled reduction over N may share N among threads, and rounds by the thread count (a
    lone member trains on one thread)."""
    return _sum_examples_op(t) if torch.compiler.is_compiling() else t.sum(1)


# MKL rounds a batched product differently depending on the product's position in the batch,
# the batch's size, its memory address and the threads: a member's numbers would then depend on
# its place in the ensemble. Measured on products of the three families' shapes (1-4,656
# examples, features 4-128): 170 of 1,445 weight-gradient and 60 of 1,445 input-gradient
# shapes differed by position, and forward products with 6 output features by address (members
# at odd places, 8 bytes off a 16-byte boundary). None differed (4,232 shapes, 1 and 2 threads,
# batches of 2 and 5 against each member alone) once every product's output features (not its
# examples) are padded with zeros to multiples of 8 and every member's matrix starts at a
# 64-byte boundary. On a CPU, :func:`_operand` lays the operands out so; the padding is sliced
# off. (A batch of one product at 2 threads can still differ: see engine/runtime.py.)
FEATURES_MULTIPLE = 8
ALIGN_BYTES = 64


def product(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``x @ w^T (+ b)`` per member, x (M, N, in), w (M, out, in), b (M, out) or None; the
    padding also writes an odd read-out (p = 31 classes) at 0.38 ms instead of 0.63."""
    n_out = w.shape[1]
    x, wt = _operand(x), _operand(w, 1).mT
    if b is None:
        return _unpad(torch.bmm(x, wt), n_out)  # (M, N, out)
    bias = torch.cat([b, b.new_zeros(b.shape[0], wt.shape[2] - n_out)], 1).unsqueeze(1)
    return _unpad(torch.baddbmm(bias, x, wt), n_out)


def input_grad(g: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return _unpad(torch.bmm(_operand(g), _operand(w, 2)), w.shape[2])  # (M, N, in)


def weight_grad(g: torch.Tensor, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``g^T x``, in the weight's own (out, in) layout, where autograd would compute ``x^T g``
    and copy its transpose."""
    n_out, n_in = w.shape[1:]
    dw = torch.bmm(_operand(g, 2).mT, _operand(x, 2))  # (M, out, in), padded
    return _unpad(dw[:, :n_out] if dw.shape[1] > n_out else dw, n_in).contiguous()


class _Linear(torch.autograd.Function):
    """:func:`product` with its gradients, in the eager engine."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return product(x, w, b)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        dx = input_grad(g, w) if ctx.needs_input_grad[0] else None
        dw = weight_grad(g, x, w) if ctx.needs_input_grad[1] else None
        db = sum_examples(g) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db


# In a compiled forward (families/compiled.py) the same products are operators of their own
# (torch.library), which the compiled graph calls as opaque kernels, fusing only the
# element-wise work around them; the products keep their layout and their bits. (Eagerly an
# operator costs more to call than the autograd function: 5 % of the MLP's step.)
@torch.library.custom_op("grokclaims::linear", mutates_args=())
def _linear_op(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return product(x, w, b)


@_linear_op.register_fake
def _(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return x.new_empty(x.shape[0], x.shape[1], w.shape[1])


@torch.library.custom_op("grokclaims::linear_grads", mutates_args=())
def _linear_grads_op(
    g: torch.Tensor, x: torch.Tensor, w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    return input_grad(g, w), weight_grad(g, x, w)


@_linear_grads_op.register_fake
def _(g: torch.Tensor, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.new_empty(x.shape), w.new_empty(w.shape)  # contiguous, as computed


def _linear_setup(ctx, inputs, output) -> None:
    x, w, b = inputs
    ctx.save_for_backward(x, w)
    ctx.has_bias = b is not None


def _linear_backward(ctx, g: torch.Tensor):
    x, w = ctx.saved_tensors
    dx, dw = _linear_grads_op(g, x, w)
    return dx, dw, _sum_examples_op(g) if ctx.has_bias else None


_linear_op.register_autograd(_linear_backward, setup_context=_linear_setup)


@torch.library.custom_op("grokclaims::sum_examples", mutates_args=())
def _sum_examples_op(t: torch.Tensor) -> torch.Tensor:
    return t.sum(1)


@_sum_examples_op.register_fake
def _(t: torch.Tensor) -> torch.Tensor:
    return t.new_empty(t.shape[0], t.shape[2])


def _operand(t: torch.Tensor, features: int | None = None) -> torch.Tensor:
    """t (M, r, c) as an operand of a batched product: on a CPU, dimension ``features`` (1 or 2)
    padded with zeros to a multiple of :data:`FEATURES_MULTIPLE`, and each member's matrix
    contiguous at a 64-byte boundary (a copy only where t is not so already)."""
    if t.device.type != "cpu":
        return t
    m, r, c = t.shape
    rows = -(-r // FEATURES_MULTIPLE) * FEATURES_MULTIPLE if features == 1 else r
    cols = -(-c // FEATURES_MULTIPLE) * FEATURES_MULTIPLE if features == 2 else c
    per_line = ALIGN_BYTES // t.element_size()  # elements in 64 bytes
    aligned = t.data_ptr() % ALIGN_BYTES == 0 and (m == 1 or (r * c) % per_line == 0)
    if (rows, cols) == (r, c) and t.is_contiguous() and aligned:
        return t
    stride = -(-(rows * cols) // per_line) * per_line
    padded = (rows, cols) != (r, c)
    out = (t.new_zeros if padded else t.new_empty)(m, stride)[:, : rows * cols]
    out = out.view(m, rows, cols)
    out[:, :r, :c] = t
    return out


def _unpad(t: torch.Tensor, n: int) -> torch.Tensor:
    """The first ``n`` entries of the last dimension, contiguous."""
    return t if t.shape[-1] == n else t[..., :n].contiguous()


def embed(tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """tokens (M, ...) into table (M, V, d) -> (M, ..., d), each member with its own table."""
    return _lookup(tokens, table, summed=False)


def embed_sum(tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """tokens (M, ..., k) -> the sum of their k rows of table (M, V, d): (M, ..., d)."""
    return _lookup(tokens, table, summed=True)


def stacked_rows(tokens: torch.Tensor, table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """tokens (M, ...) into each member's table (M, V, d) as indices into the members' tables
    stacked as rows (M V, d): the indices and the rows."""
    m, v, d = table.shape
    offsets = (torch.arange(m, device=tokens.device) * v).view(-1, *([1] * (tokens.dim() - 1)))
    return tokens + offsets, table.reshape(m * v, d)


def gather_rows(index: torch.Tensor, rows: torch.Tensor, summed: bool) -> torch.Tensor:
    """``F.embedding(index, rows)``, or, ``summed``, the sum of the lookups along the index's
    last dimension, one column after the other."""
    if not summed:
        return F.embedding(index, rows)
    columns = index.unbind(-1)
    out = F.embedding(columns[0], rows)
    for column in columns[1:]:
        out += F.embedding(column, rows)
    return out


def add_rows(index: torch.Tensor, grad: torch.Tensor, n_rows: int, summed: bool) -> torch.Tensor:
    """The gradient (n_rows, d) of the rows of :func:`gather_rows` on a CPU: ``grad``'s rows
    added into zeros with ``index_add_``, in index order (one index column after the other,
    ``summed``)."""
    d = grad.shape[-1]
    out, grad = grad.new_zeros(n_rows, d), grad.reshape(-1, d)
    for column in index.unbind(-1) if summed else (index,):
        out.index_add_(0, column.reshape(-1), grad)
    return out


def _lookup(tokens: torch.Tensor, table: torch.Tensor, summed: bool) -> torch.Tensor:
    index, rows = stacked_rows(tokens, table)
    if rows.device.type == "cpu":
        return _RowLookup.apply(index, rows, summed)
    if not summed:
        return F.embedding(index, rows)
    return sum(F.embedding(i, rows) for i in index.unbind(-1))


class _RowLookup(torch.autograd.Function):
    """``F.embedding`` (or, ``summed``, the sum of the lookups along the index's last
    dimension) whose backward adds the gradient rows into the table with ``index_add_``, on a
    CPU in index order as ``F.embedding``'s own backward does, at about a fifth of its cost
    here. Summed lookups add into the table one index column after the other: for columns
    that hit disjoint rows (the MLP's a and p + b) each row's sum is the one that separate
    lookups give. Not used on a GPU, where ``index_add_`` adds atomically, in an order that
    changes from run to run."""

    @staticmethod
    def forward(ctx, index: torch.Tensor, rows: torch.Tensor, summed: bool) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.n_rows, ctx.summed = rows.shape[0], summed
        return gather_rows(index, rows, summed)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (index,) = ctx.saved_tensors
        return None, add_rows(index, grad, ctx.n_rows, ctx.summed), None


def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """x (M, ..., d), w (M, d): ``x / sqrt(mean(x^2) + eps) * w``."""
    return _RMSNorm.apply(x, w, eps)


class _RMSNorm(torch.autograd.Function):
    """RMSNorm with a per-member weight, backward written out: one autograd node instead of
    eight (pow, mean, add, rsqrt, two products, the weight's broadcast sum), saving the
    normalised activation so the backward recomputes nothing."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
        m, d = w.shape
        x2 = x.reshape(m, -1, d)
        rstd = torch.rsqrt(x2.pow(2).mean(-1, keepdim=True) + eps)  # (M, N, 1)
        xn = x2 * rstd
        ctx.save_for_backward(xn, rstd, w)
        return (xn * w.unsqueeze(1)).view(x.shape)

    @staticmethod
    def backward(ctx, dy: torch.Tensor):
        xn, rstd, w = ctx.saved_tensors
        shape = dy.shape
        dy = dy.reshape(xn.shape)
        dw = sum_examples(dy * xn)
        g = dy * w.unsqueeze(1)
        dx = g.sub_(xn * (g * xn).mean(-1, keepdim=True)).mul_(rstd)
        return dx.view(shape), dw, None


def gated_silu(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``silu(a) * b`` (a gated feed-forward's hidden units), rounded alike wherever an element
    lies in the tensor (:class:`_GatedSiLU`)."""
    return _GatedSiLU.apply(a, b)


class _GatedSiLU(torch.autograd.Function):
    """``silu(a) * b``, silu's sigmoid computed as ``1 / (1 + exp(-a))``.

    PyTorch's silu and sigmoid kernels compute most elements with a vectorised exp and the last
    few of each thread's share with the C library's, which rounds differently; which of a
    member's units fall there depends on the ensemble around it. ``exp``, sums, products and
    reciprocals round every element alike at any offset (tests/test_models.py); ``exp2`` and
    ``softplus`` do not."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        s = torch.neg(a).exp_().add_(1).reciprocal_()  # sigmoid(a)
        y = a * s  # silu(a)
        ctx.save_for_backward(b, s, y)
        return y * b

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        b, s, y = ctx.saved_tensors
        da = torch.addcmul(y, y, s, value=-1).add_(s).mul_(g).mul_(b)  # silu' = s + y - y s
        return da, g * y


def layer_norm(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    shape = (w.shape[0], *([1] * (x.dim() - 2)), w.shape[1])
    return F.layer_norm(x, x.shape[-1:], eps=eps) * w.view(shape) + b.view(shape)


def attention(
    q,
    k,
    v,
    heads: int,
    mask: torch.Tensor | None,
    drop: MemberDropout | None,
) -> torch.Tensor:
    """q, k, v (M, B, S, d) -> (M, B, S, d); softmax attention per head."""

    def split(t):  # (M, B, S, d) -> (M, B, heads, S, hd)
        return t.unflatten(-1, (heads, -1)).transpose(2, 3)

    q, k, v = split(q), split(k), split(v)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    probs = scores.softmax(-1)
    if drop is not None:
        probs = drop(probs)
    return (probs @ v).transpose(2, 3).flatten(-2)


def rotary_rows(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Tables (S, hd) such that rotating interleaved pairs is ``x * c + swap_pairs(x) * s``."""
    cos, sin = rotary_tables(seq_len, head_dim, base)
    return cos.repeat_interleave(2, -1), torch.stack((-sin, sin), -1).flatten(-2)


def swap_pairs(x: torch.Tensor) -> torch.Tensor:
    """(..., 2i, 2i+1, ...) -> (..., 2i+1, 2i, ...) on the last dimension."""
    return x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)
