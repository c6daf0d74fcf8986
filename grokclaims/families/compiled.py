"""Compiled forwards: a family's forward as fused kernels (``torch.compile``), on a CPU.

A compiled forward takes the same parameters and gives the same maths as the eager one, with
its element-wise chains fused into few passes over the activations; its numbers round
differently from the eager forward's, and its dropout masks are its own: computed inside the
fused kernels by a counter-based generator from keys drawn from each member's generator
(:class:`~grokclaims.families.dropout.CounterDropout`), where the eager engine draws each
unit's bits from the generator (which cost a tenth of the compiled step). A compiled run is
therefore another sample than the eager run of its seed, at the same rates. A member's numbers
must still not depend on the ensemble around it, so what the compiler would round by shape or
thread count stays out of its hands:

- products are :func:`~grokclaims.families.batched.linear`'s own operator, called as opaque
  kernels, so they keep their member-independent layout and the eager engine's bits;
- sums over a member's examples are :func:`~grokclaims.families.batched.sum_examples`, an
  operator too (a compiled reduction may share the examples among threads);
- token lookups (a compiled scatter-add adds in a thread-dependent order), the draws of
  dropout's keys (:meth:`~grokclaims.families.dropout.MemberDropout.keys`) and the loss run
  eagerly, outside.

Checked by ``tests/test_compiled.py`` and ``tests/test_counter_dropout.py``. Compiling costs
seconds per shape (README, Benchmark).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def compiled(fn: Callable) -> Callable:
    """``fn`` compiled for the static shapes it is called with (one graph per shape)."""
    import torch._dynamo.config as dynamo

    # A new ensemble size (members stop) is a new shape: never fall back to eager silently.
    dynamo.recompile_limit = max(dynamo.recompile_limit, 256)
    dynamo.fail_on_recompile_limit_hit = True
    return torch.compile(fn, dynamic=False, fullgraph=True)
