"""Process-level settings for training: the device, the CPU allocator and threads.

An ensemble of M members trains with at most M CPU threads (:func:`ensemble_threads`). MKL
computes a batch of products one product per thread, with the same sums as a single thread;
but a batch of one product (with many threads, of a few) it shares among threads, splitting
the product's sums over its inner dimension, which changes their last bits. PyTorch likewise
splits a reduction to a single number (a lone member's weight norm) among threads. With at most
one thread per member, a member's numbers are the same alone and inside any ensemble (with the
operand layout of ``families/batched.py``, which handles a product's place and address):
measured on a lone (6 x 264) @ (264 x 25) product, Song & Ye's read-out gradient at dim 6 and
p = 23, which differed by 9e-9 at 2 threads from the same product in any batch of 2 or more.

Small models on a CPU allocate and free many activation tensors of a few MB per step. glibc
returns such blocks to the kernel (``mmap``/``munmap``) and the next step faults the pages in
again, which measured 30-45 % of a step here (``scratch`` measurement in the engine's issue
note). :func:`keep_freed_memory` raises glibc's thresholds so freed blocks are reused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import torch

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_tuned = False


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse (idempotent). False where not glibc."""
    global _tuned
    if _tuned:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1
        ok = ok and libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1) == 1
    except (OSError, AttributeError):
        return False
    _tuned = ok
    return ok


def ensemble_threads(members: int, available: int) -> int:
    """CPU threads for an ensemble of ``members``: one per member at most (module docstring)."""
    return max(1, min(members, available))


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
