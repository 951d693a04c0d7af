"""The execution seam: run independent, seeded tasks locally or on a Dask cluster.

Methods split long Monte Carlo or bootstrap work into tasks and call :func:`run_tasks`.
Each task gets its own ``numpy.random.SeedSequence`` child spawned from the method's
seed, so the results are identical whatever the backend and however many workers run.

* ``backend="serial"``: in this process (default for small work and in tests);
* ``backend="processes"``: a local ``concurrent.futures.ProcessPoolExecutor``;
* ``scheduler="tcp://host:8786"`` (or a ``dask.distributed.Client``): a Dask cluster
  (extra ``pollwatch[distributed]``).

This package imports nothing else of pollwatch.
"""

from pollwatch.compute.seam import Backend, get_backend, run_tasks, spawn_seeds

__all__ = ["Backend", "get_backend", "run_tasks", "spawn_seeds"]
