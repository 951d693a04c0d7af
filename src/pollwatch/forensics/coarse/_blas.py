"""Run small dense optimisations with one BLAS thread (private; used by the coarse-share and
mixture fits).

SciPy's L-BFGS-B calls BLAS/LAPACK on tiny (``maxcor`` × ``maxcor``) matrices every
iteration. With OpenBLAS' default thread pool each call wakes every worker thread, which on a
busy 2-core machine costs ~1 ms per iteration instead of ~0.1 ms (measured: 1.08 vs 0.24 ms
wall per iteration on a 14-parameter problem). The bundled OpenBLAS libraries of NumPy and
SciPy are limited to one thread for the duration and restored afterwards; where they cannot
be found (another BLAS, another platform) this does nothing.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_NAMES = (
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
)
_lock = threading.Lock()
_depth = 0
_saved: list[tuple[object, int]] = []
_libs: list[tuple[object, object]] | None = None


def _find() -> list[tuple[object, object]]:
    out = []
    import numpy
    import scipy

    for pkg in (numpy, scipy):
        base = os.path.dirname(os.path.dirname(pkg.__file__))
        for path in glob.glob(os.path.join(base, f"{pkg.__name__}.libs", "*openblas*")):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get, set_ in _NAMES:
                if hasattr(lib, get) and hasattr(lib, set_):
                    out.append((getattr(lib, get), getattr(lib, set_)))
                    break
    return out


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit the bundled OpenBLAS libraries to one thread inside the ``with`` block."""
    global _depth, _libs
    with _lock:
        if _libs is None:
            try:
                _libs = _find()
            except Exception:  # never let a speed tweak break a fit
                _libs = []
        if _depth == 0:
            _saved.clear()
            for get, set_ in _libs:
                _saved.append((set_, int(get())))
                set_(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for set_, n in _saved:
                    set_(n)
