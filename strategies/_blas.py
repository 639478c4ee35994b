"""One BLAS thread around a model's small dense algebra (private helper of model-based strategies).

The matrices of NAS surrogates are small (hundreds of rows); multi-threaded BLAS on a busy
machine (parallel runs, other processes) spins and slows each product several-fold. OpenBLAS
splits a product over the output blocks, not the summed dimension, so one thread gives the
same numbers.
"""

from __future__ import annotations

__all__ = ["one_blas_thread"]

_CONTROLLER = None


def one_blas_thread():
    """A context manager limiting BLAS to one thread (threadpoolctl, a scikit-learn dependency)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
