"""The execution layer: where work runs, locally or on a Dask cluster.

One immutable :class:`Execution` says where (``execution=`` on every method that splits its
work, and on :func:`pollwatch.forensics.run.analyze`); ``Execution.of`` also accepts a string
(``"serial"``, ``"processes:4"``, ``"dask:tcp://host:8786"``) or None (serial).

* :func:`run_tasks`: the seeded tasks of one method (Monte Carlo chunks, bootstrap replicates).
  Each task gets its own ``numpy.random.SeedSequence`` child spawned from the method's seed
  (:func:`spawn_seeds`), so the results are identical whatever the execution.
* :class:`Jobs` / :func:`run_jobs`: named, independent jobs run concurrently (``analyze``
  runs its two slowest methods in a worker process beside the others). A job's exception is
  raised in the caller as a :class:`ComputeError` naming the job, with the worker's traceback.

Kinds: ``serial`` (this process), ``processes`` (a local ``ProcessPoolExecutor``), ``dask``
(extra ``pollwatch[distributed]``). This package imports nothing else of pollwatch.
"""

from pollwatch.compute.seam import (
    ComputeError,
    Execution,
    Job,
    Jobs,
    run_jobs,
    run_tasks,
    spawn_seeds,
)

__all__ = ["ComputeError", "Execution", "Job", "Jobs", "run_jobs", "run_tasks", "spawn_seeds"]
