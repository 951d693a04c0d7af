"""The execution layer: one Execution object, named jobs whose errors surface with the job's
name and the worker's traceback, every argument reaching the worker, and the same results
whatever the execution."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pollwatch.compute import ComputeError, Execution, Jobs, run_jobs, run_tasks


# -- parsing and validation -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text,want",
    [
        ("serial", Execution()),
        ("processes", Execution("processes")),
        ("processes:4", Execution.processes(4)),
        (" processes:2 , threads=1 ", Execution.processes(2, threads=1)),
        ("serial,threads=3", Execution.serial(threads=3)),
        ("dask", Execution("dask")),
        ("dask:tcp://10.0.0.1:8786", Execution.dask("tcp://10.0.0.1:8786")),
        ("tcp://10.0.0.1:8786", Execution.dask("tcp://10.0.0.1:8786")),
        ("processes,workers=3", Execution.processes(3)),
    ],
)
def test_parse(text, want):
    assert Execution.parse(text) == want
    assert Execution.of(text) == want


def test_of_and_defaults():
    assert Execution.of(None) == Execution() == Execution.serial()
    ex = Execution.processes(2)
    assert Execution.of(ex) is ex
    assert Execution.of(None).describe() == "serial"
    assert (
        Execution.processes(3, threads=2).describe() == "local process pool (3 workers), 2 threads"
    )
    assert Execution.dask("tcp://h:1").describe() == "dask (tcp://h:1)"
    with pytest.raises(TypeError, match="must be an Execution"):
        Execution.of(3)  # type: ignore[arg-type]


def test_immutable():
    ex = Execution.processes(2)
    with pytest.raises(AttributeError):
        ex.workers = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda: Execution.parse("threads"),
            "kind 'threads' not recognised|'threads'.*not recognised",
        ),
        (lambda: Execution.parse("processes:0"), r"workers \(0\) must be an integer"),
        (lambda: Execution.parse("processes:x"), r"workers \('x'\) must be an integer"),
        (lambda: Execution.parse("serial:2"), "takes no ':' argument"),
        (lambda: Execution.parse("serial,workers=2"), "needs kind 'processes'"),
        (lambda: Execution.parse("processes,cores=2"), "option .* not recognised"),
        (lambda: Execution("dask", workers=2), "set by the Dask cluster"),
        (lambda: Execution("serial", scheduler="tcp://h:1"), "needs kind 'dask'"),
        (lambda: Execution.processes(True), r"workers \(True\)"),  # type: ignore[arg-type]
        (lambda: Execution.serial(threads=-1), r"threads \(-1\)"),
    ],
)
def test_validation_errors_say_what_is_wrong(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- jobs ------------------------------------------------------------------------------------
def _echo(*args, **kwargs):
    return args, kwargs, os.getpid()


def _fail(message: str):
    raise ValueError(message)


def _draw(seed: np.random.SeedSequence, n: int) -> float:
    return float(np.random.default_rng(seed).normal(size=n).sum())


@pytest.mark.parametrize("where", ["serial", "processes:1"])
def test_a_failing_job_raises_with_its_name_and_message(where):
    with pytest.raises(ComputeError) as info:
        run_jobs({"fine": (_echo, (1,)), "boom": (_fail, ("kaboom 42",))}, where)
    err = info.value
    assert err.job == "boom"
    assert "'boom'" in str(err) and "kaboom 42" in str(err)
    assert isinstance(err.error, ValueError) and str(err.error) == "kaboom 42"
    assert err.summary == "ValueError: kaboom 42"
    assert "_fail" in err.child_traceback and "kaboom 42" in err.child_traceback
    assert isinstance(err.__cause__, ValueError)


def test_other_jobs_still_return_when_one_fails():
    with Jobs("processes:1") as jobs:
        bad = jobs.submit("bad", _fail, "no")
        good = jobs.submit("good", _echo, 7)
        assert good.result()[0] == (7,)
        with pytest.raises(ComputeError, match="'bad' failed: ValueError: no"):
            bad.result()


def test_every_argument_reaches_the_worker():
    from pollwatch.forensics.run import Context

    ctx = Context(seed=11, execution=Execution.serial(threads=1), regional_boot=7)
    seq = np.random.SeedSequence(5).spawn(1)[0]
    with Jobs(Execution.processes(1), nice=1) as jobs:
        args, kwargs, pid = jobs.submit("echo", _echo, ctx, seq, 3, scheduler="x").result()
    assert pid != os.getpid()  # it did run elsewhere
    assert args[0] == ctx and args[0].regional_boot == 7 and args[0].execution.threads == 1
    assert args[1].entropy == seq.entropy and args[1].spawn_key == seq.spawn_key
    assert args[2] == 3 and kwargs == {"scheduler": "x"}


def test_submit_outside_the_with_block_is_an_error():
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        Jobs("processes:1").submit("x", _echo)


def test_run_tasks_takes_an_execution():
    from pollwatch.compute import spawn_seeds

    _, seeds = spawn_seeds(3, 3)
    tasks = [(s, 100) for s in seeds]
    want = run_tasks(_draw, tasks)
    assert run_tasks(_draw, tasks, "processes:2") == want
    assert run_tasks(_draw, tasks, Execution.processes(2)) == want


# -- analyze's worker process ----------------------------------------------------------------
def test_a_method_failing_in_the_worker_is_recorded_not_dropped():
    from pollwatch.forensics import run

    ctx = run.Context(seed=0)
    with Jobs(run.OFFLOAD_EXECUTION) as jobs:
        job = jobs.submit("mixture", run._method_job, "mixture", b"not a pickle", ctx)
        res, err, secs = run._collect("mixture", job, 0.0, lambda _: None)
    assert res is None and err is not None and err.startswith("UnpicklingError")
    assert secs > 0


def _mixture(e, seed, execution):
    from pollwatch.forensics.mixture import fraud_mixture

    return fraud_mixture(e, seed=seed, n_boot=4, boot_size=None, execution=execution)


def test_mixture_identical_serial_processes_and_in_a_job():
    from pollwatch.simulate import simulate_election

    e = simulate_election(1500, seed=4).election
    a = _mixture(e, 9, "serial")
    b = _mixture(e, 9, "processes:2")
    c = run_jobs({"mixture": (_mixture, (e, 9, None))}, "processes:1")["mixture"]
    for r in (b, c):
        assert r.pi == a.pi
        assert r.fraud_votes == a.fraud_votes
        assert r.fraud_votes_ci == a.fraud_votes_ci
        np.testing.assert_array_equal(r.boot, a.boot)


def _sleep(sec: float) -> float:
    import time

    time.sleep(sec)
    return sec


def test_leaving_the_block_on_an_error_stops_the_workers():
    import time

    t0 = time.perf_counter()
    with pytest.raises(KeyError), Jobs("processes:1") as jobs:
        job = jobs.submit("slow", _sleep, 60)
        time.sleep(0.5)
        raise KeyError("the caller failed")
    assert time.perf_counter() - t0 < 30
    with pytest.raises(ComputeError, match="'slow' failed: (the worker process died|cancelled)"):
        job.result()


def test_a_script_without_a_main_guard_is_not_rerun_by_the_workers(tmp_path):
    # An analyst's script calling pollwatch at top level: spawned workers must not run it again.
    import subprocess
    import sys

    marker = tmp_path / "runs.txt"
    script = tmp_path / "analysis.py"
    script.write_text(
        "import math\n"
        "from pollwatch.compute import Jobs\n"
        f"open({str(marker)!r}, 'a').write('ran\\n')\n"
        "with Jobs('processes:1') as jobs:\n"
        "    print(jobs.submit('root', math.sqrt, 16.0).result())\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "4.0"
    assert marker.read_text().count("ran") == 1
