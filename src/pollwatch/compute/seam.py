"""One execution layer: :class:`Execution` says where work runs; :func:`run_tasks` runs seeded
tasks of one method, :class:`Jobs` and :func:`run_jobs` run named independent jobs."""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("serial", "processes", "dask")

#: start method of the worker processes of :class:`Jobs`: a fresh interpreter, never a fork
#: (the parent may hold OpenMP (numba ``prange``), BLAS or Polars thread pools that a forked
#: child cannot use)
JOB_START_METHOD = "spawn"


def _positive(name: str, v: object) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        raise ValueError(f"{name} ({v!r}) must be an integer in the interval [1, inf) or None.")


@dataclass(frozen=True)
class Execution:
    """Where work runs, in one immutable object every method takes as ``execution=``.

    * ``kind="serial"``: in this process (the default);
    * ``kind="processes"``: a local process pool of ``workers`` processes (None: one per core);
    * ``kind="dask"``: a Dask cluster at ``scheduler`` (an address such as
      ``"tcp://host:8786"`` or a ``dask.distributed.Client``; None: a local cluster started
      for the call; extra ``pollwatch[distributed]``).

    ``threads``: threads a task may use inside methods with their own thread pool (the RKD
    resampling; None: every core). Results never depend on any of these: every task draws
    from its own seeded stream. Build one with the class methods, from text with
    :meth:`parse` (``"serial"``, ``"processes:4"``, ``"dask:tcp://host:8786"``,
    ``"processes:2,threads=1"``), or let :meth:`of` accept either.
    """

    kind: str = "serial"
    workers: int | None = None
    threads: int | None = None
    scheduler: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"execution kind ({self.kind!r}) not recognised; must be 'serial', "
                "'processes' or 'dask'"
            )
        _positive("workers", self.workers)
        _positive("threads", self.threads)
        if self.kind == "serial" and self.workers not in (None, 1):
            raise ValueError(
                f"workers ({self.workers!r}) needs kind 'processes': serial runs in this process"
            )
        if self.kind == "dask" and self.workers is not None:
            raise ValueError(
                f"workers ({self.workers!r}) is set by the Dask cluster, not by the execution"
            )
        if self.scheduler is not None and self.kind != "dask":
            raise ValueError(f"a scheduler ({self.scheduler!r}) needs kind 'dask'")

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def serial(cls, threads: int | None = None) -> Execution:
        return cls("serial", threads=threads)

    @classmethod
    def processes(cls, workers: int | None = None, threads: int | None = None) -> Execution:
        return cls("processes", workers=workers, threads=threads)

    @classmethod
    def dask(cls, scheduler: Any = None, threads: int | None = None) -> Execution:
        return cls("dask", threads=threads, scheduler=scheduler)

    @classmethod
    def parse(cls, text: str) -> Execution:
        """``KIND[:ARG][,threads=N][,workers=N]``: ``serial``, ``processes``, ``processes:4``,
        ``dask``, ``dask:tcp://host:8786``, or a bare scheduler address (``tcp://host:8786``,
        meaning Dask)."""
        if not isinstance(text, str):
            raise TypeError(f"execution text must be a str, not {type(text).__name__}")
        head, *opts = [p.strip() for p in text.strip().split(",")]
        if "://" in head and not head.startswith("dask:"):
            kind, arg = "dask", head
        else:
            kind, _, arg = head.partition(":")
        kw: dict[str, Any] = {}
        for opt in opts:
            key, eq, val = opt.partition("=")
            if not eq or key.strip() not in ("threads", "workers"):
                raise ValueError(
                    f"execution option ({opt!r}) not recognised in {text!r}; "
                    "use threads=N or workers=N"
                )
            kw[key.strip()] = _int(val, key.strip(), text)
        if arg:
            if kind == "processes":
                kw["workers"] = _int(arg, "workers", text)
            elif kind == "dask":
                kw["scheduler"] = arg
            else:
                raise ValueError(f"execution {text!r}: kind {kind!r} takes no ':' argument")
        return cls(kind, **kw)

    @classmethod
    def of(cls, value: Execution | str | None) -> Execution:
        """``None`` → the default (serial); a string → :meth:`parse`; an Execution → itself."""
        if value is None:
            return DEFAULT
        if isinstance(value, Execution):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise TypeError(
            f"execution ({value!r}) must be an Execution, a string such as 'processes:2' or None"
        )

    def describe(self) -> str:
        if self.kind == "dask":
            where = "local cluster" if self.scheduler is None else self.scheduler
            out = f"dask ({where if isinstance(where, str) else 'client'})"
        elif self.kind == "processes":
            out = f"local process pool ({self.workers or os.cpu_count()} workers)"
        else:
            out = "serial"
        return out + (f", {self.threads} threads" if self.threads else "")


def _int(val: str, name: str, text: str) -> int:
    try:
        return int(val)
    except ValueError:
        raise ValueError(
            f"execution {text!r}: {name} ({val.strip()!r}) must be an integer"
        ) from None


DEFAULT = Execution()


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


def _dask_client(ex: Execution):
    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError(
            "the Dask backend needs the distributed extra: pip install 'pollwatch[distributed]'"
        ) from exc
    if isinstance(ex.scheduler, Client):
        return ex.scheduler, False
    return Client(ex.scheduler), True


def run_tasks(
    fn: Callable[..., Any], tasks: Sequence[tuple], execution: Execution | str | None = None
) -> list[Any]:
    """Run ``fn(*task)`` for every task and return results in task order.

    ``fn`` must be a module-level function (picklable) and deterministic given its arguments
    (pass a SeedSequence child in each task for randomness). An exception in a task is
    raised here (from a worker process with the worker's traceback as its cause).
    """
    ex = Execution.of(execution)
    if ex.kind == "serial" or len(tasks) <= 1:
        return [fn(*t) for t in tasks]
    if ex.kind == "processes":
        with ProcessPoolExecutor(max_workers=ex.workers) as pool:
            return list(pool.map(fn, *zip(*tasks, strict=True)))
    client, own = _dask_client(ex)
    try:
        futures = [client.submit(fn, *t, pure=False) for t in tasks]
        return client.gather(futures)
    finally:
        if own:
            client.close()


# -- named jobs --------------------------------------------------------------------------------
class ComputeError(RuntimeError):
    """A job failed where it ran. ``job`` names it; ``error`` is the original exception (None
    when the worker process died); ``child_traceback`` is the traceback text from where it
    ran. The original exception is also the ``__cause__``."""

    def __init__(
        self,
        job: str,
        message: str,
        *,
        error: BaseException | None = None,
        child_traceback: str | None = None,
    ) -> None:
        super().__init__(f"job {job!r} failed: {message}")
        self.job, self.message = job, message
        self.error, self.child_traceback = error, child_traceback

    def __reduce__(self):
        return (
            _rebuild_compute_error,
            (self.job, self.message, self.error, self.child_traceback),
        )

    @property
    def summary(self) -> str:
        """``"Type: message"`` of the original exception (as a failure run in-process reads)."""
        if self.error is None:
            return f"{type(self).__name__}: {self.message}"
        return f"{type(self.error).__name__}: {self.error}"


def _rebuild_compute_error(job, message, error, tb) -> ComputeError:
    return ComputeError(job, message, error=error, child_traceback=tb)


def _traceback_of(exc: BaseException) -> str:
    remote = exc.__cause__
    tb = getattr(remote, "tb", None)  # concurrent.futures.process._RemoteTraceback
    if isinstance(tb, str):
        return tb
    return "".join(traceback.format_exception(exc))


class Job:
    """A submitted job: :meth:`result` returns its value or raises :class:`ComputeError`."""

    def __init__(self, name: str, future: Any) -> None:
        self.name, self._future = name, future

    def done(self) -> bool:
        return bool(self._future.done())

    def result(self, timeout: float | None = None) -> Any:
        try:
            return self._future.result(timeout)
        except TimeoutError:
            raise
        except BrokenProcessPool as exc:
            raise ComputeError(
                self.name, f"the worker process died before returning ({exc})"
            ) from exc
        except CancelledError as exc:
            raise ComputeError(self.name, "cancelled before it ran") from exc
        except Exception as exc:
            raise ComputeError(
                self.name,
                f"{type(exc).__name__}: {exc}",
                error=exc,
                child_traceback=_traceback_of(exc),
            ) from exc


@contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start fresh workers without re-running the caller's script.

    A spawned interpreter imports the parent's ``__main__`` (as ``__mp_main__``) so that
    functions defined there can be unpickled; an analyst's script that calls ``analyze`` at top
    level without an ``if __name__ == "__main__"`` guard would then run again in the worker.
    Our jobs are pollwatch functions, so while the workers start the main module is hidden
    from ``multiprocessing``'s preparation data (it reads ``__spec__`` and ``__file__``).
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {
        k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _init_worker(nice: int) -> None:
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not allowed here: the same results, only a different share of CPU
            pass


class Jobs:
    """Run named, independent jobs concurrently on an :class:`Execution`; a context manager.

    ``with Jobs("processes:1", nice=10) as jobs: job = jobs.submit("mixture", fn, *args)``,
    work here meanwhile, then ``job.result()``. Serial jobs run at :meth:`submit`; process
    jobs run in fresh interpreters (:data:`JOB_START_METHOD`) started with the pool, at
    ``nice`` lower priority; every argument is pickled to the worker as given. A job's
    exception is raised by its :meth:`Job.result` as a :class:`ComputeError` naming the job.
    """

    def __init__(self, execution: Execution | str | None = None, *, nice: int = 0) -> None:
        self.execution = Execution.of(execution)
        self.nice = nice
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._own_client = False

    def __enter__(self) -> Jobs:
        ex = self.execution
        if ex.kind == "processes":
            self._pool = ProcessPoolExecutor(
                max_workers=ex.workers or os.cpu_count() or 1,
                mp_context=multiprocessing.get_context(JOB_START_METHOD),
                initializer=_init_worker,
                initargs=(self.nice,),
            )
        elif ex.kind == "dask":
            self._client, self._own_client = _dask_client(ex)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            if exc_type is not None:  # the caller failed: its jobs' results will not be read
                for p in list((getattr(self._pool, "_processes", None) or {}).values()):
                    p.terminate()
            self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)
            self._pool = None
        if self._own_client:
            self._client.close()
        self._client, self._own_client = None, False

    def submit(self, name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Job:
        kind = self.execution.kind
        if kind == "processes":
            if self._pool is None:
                raise RuntimeError("Jobs.submit outside its 'with' block")
            if getattr(fn, "__module__", None) == "__main__":
                return Job(name, self._pool.submit(fn, *args, **kwargs))
            with _main_not_reimported():  # workers start at the first submit
                return Job(name, self._pool.submit(fn, *args, **kwargs))
        if kind == "dask":
            if self._client is None:
                raise RuntimeError("Jobs.submit outside its 'with' block")
            return Job(name, self._client.submit(fn, *args, pure=False, **kwargs))
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return Job(name, fut)


def run_jobs(
    jobs: Mapping[str, tuple[Callable[..., Any], tuple]],
    execution: Execution | str | None = None,
    *,
    nice: int = 0,
) -> dict[str, Any]:
    """Run ``{name: (fn, args)}`` concurrently and return ``{name: fn(*args)}`` in order; the
    first failed job (in order) raises :class:`ComputeError` once every job has finished."""
    with Jobs(execution, nice=nice) as pool:
        handles = [pool.submit(name, fn, *args) for name, (fn, args) in jobs.items()]
        for h in handles:  # wait for all: a failure does not leave the others running
            try:
                h.result()
            except ComputeError:
                pass
        return {h.name: h.result() for h in handles}
