"""Process-level settings for training: the device, the CPU allocator and threads.

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


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
