"""The execution seam gives identical results for the same seed whatever the execution."""

import numpy as np
import pytest

from pollwatch.compute import Execution, run_tasks, spawn_seeds


def _draw(seed: np.random.SeedSequence, n: int) -> float:
    return float(np.random.default_rng(seed).normal(size=n).sum())


def test_serial_and_processes_agree():
    entropy, seeds = spawn_seeds(123, 4)
    tasks = [(s, 1000) for s in seeds]
    a = run_tasks(_draw, tasks, "serial")
    b = run_tasks(_draw, tasks, "processes")
    assert a == b
    assert entropy == 123


def test_different_seeds_differ():
    _, s1 = spawn_seeds(1, 2)
    _, s2 = spawn_seeds(2, 2)
    assert run_tasks(_draw, [(s, 10) for s in s1]) != run_tasks(_draw, [(s, 10) for s in s2])


def test_bad_execution_names_choices():
    with pytest.raises(ValueError, match="must be 'serial', 'processes' or 'dask'"):
        Execution.of("threads")
