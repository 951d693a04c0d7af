"""Local pool or Dask: one function, same results."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Backend:
    """Where tasks run. ``kind`` is ``serial``, ``processes`` or ``dask``."""

    kind: str = "serial"
    workers: int | None = None
    scheduler: Any = None  # address string or dask.distributed.Client

    def describe(self) -> str:
        if self.kind == "dask":
            return f"dask ({self.scheduler if isinstance(self.scheduler, str) else 'client'})"
        if self.kind == "processes":
            return f"local process pool ({self.workers or os.cpu_count()} workers)"
        return "serial"


_DEFAULT = Backend()


def get_backend(backend: Backend | str | None = None, scheduler: Any = None) -> Backend:
    """Normalise a backend argument. A ``scheduler`` always means Dask."""
    if scheduler is not None:
        return Backend("dask", scheduler=scheduler)
    if backend is None:
        return _DEFAULT
    if isinstance(backend, Backend):
        return backend
    if backend not in ("serial", "processes", "dask"):
        raise ValueError(
            f"backend ({backend!r}) not recognised; must be 'serial', 'processes' or 'dask'"
        )
    return Backend(backend)


def check_seed(seed: object, name: str = "seed") -> None:
    """Raise ``ValueError`` unless ``seed`` is ``None``, a ``SeedSequence`` or an integer ≥ 0
    (NumPy's own message, "expected non-negative integer", names neither the parameter nor the
    value)."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(
            f"{name} ({seed!r}) must be an integer in the interval [0, inf) or a SeedSequence."
        )


def spawn_seeds(
    seed: int | np.random.SeedSequence | None, n: int
) -> tuple[int, list[np.random.SeedSequence]]:
    """Entropy of the root seed (to record on the result) and ``n`` independent children."""
    check_seed(seed)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return int(root.entropy), root.spawn(n)  # type: ignore[arg-type]


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    backend: Backend | str | None = None,
    scheduler: Any = None,
) -> list[Any]:
    """Run ``fn(*task)`` for every task and return results in task order.

    ``fn`` must be a module-level function (picklable) and deterministic given its arguments
    (pass a SeedSequence child in each task for randomness).
    """
    be = get_backend(backend, scheduler)
    if be.kind == "serial" or len(tasks) <= 1:
        return [fn(*t) for t in tasks]
    if be.kind == "processes":
        with ProcessPoolExecutor(max_workers=be.workers) as pool:
            return list(pool.map(fn, *zip(*tasks, strict=True)))
    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError(
            "the Dask backend needs the distributed extra: pip install 'pollwatch[distributed]'"
        ) from exc
    client = be.scheduler if isinstance(be.scheduler, Client) else Client(be.scheduler)
    try:
        futures = [client.submit(fn, *t, pure=False) for t in tasks]
        return client.gather(futures)
    finally:
        if client is not be.scheduler:
            client.close()
