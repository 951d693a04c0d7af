"""The top-level API: every exported name resolves and is documented; nothing else leaks."""

import pollwatch


def test_exports_resolve_and_are_documented():
    for name in pollwatch.__all__:
        obj = getattr(pollwatch, name)
        assert obj.__doc__, f"{name} has no docstring"


def test_all_is_sorted_and_unknown_names_fail():
    assert pollwatch.__all__ == sorted(pollwatch.__all__)
    try:
        pollwatch.nope  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'nope'" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown attribute resolved")


def test_every_cli_command_has_help_with_an_example():
    from typer.main import get_command

    from pollwatch.cli import app

    group = get_command(app)
    for name, cmd in group.commands.items():
        assert cmd.help, f"pollwatch {name} has no help"


def test_validate_stays_callable_after_the_subpackage_is_imported():
    # Importing pollwatch.validate binds the package attribute to the module; it must still
    # behave as the documented function.
    import pollwatch.validate.rules  # noqa: F401
    from pollwatch import simulate_election, validate

    findings = validate(simulate_election(300, seed=3).election)
    assert findings.counts()["candidates_sum_valid"] == 0


TOP_LEVEL_FUNCTIONS = ["analyze", "read_election", "simulate_election", "validate", "write_all"]
# numpydoc checks enforced on the top-level functions: a summary, every parameter documented
# and no unknown ones, Returns and Examples sections present.
NUMPYDOC_CHECKS = {"GL08", "SS01", "SS03", "PR01", "PR02", "RT01", "EX01"}


def _function(name):
    obj = getattr(pollwatch, name)
    return pollwatch.validate.rules.validate if name == "validate" else obj


def test_top_level_functions_have_numpydoc_docstrings():
    import pytest

    validate_doc = pytest.importorskip("numpydoc.validate", reason="numpydoc (dev extra)")
    problems = []
    for name in TOP_LEVEL_FUNCTIONS:
        fn = _function(name)
        result = validate_doc.validate(f"{fn.__module__}.{fn.__qualname__}")
        problems += [
            f"{name}: {code} {msg}" for code, msg in result["errors"] if code in NUMPYDOC_CHECKS
        ]
    assert not problems, "\n".join(problems)


def test_top_level_examples_run():
    import doctest

    for name in TOP_LEVEL_FUNCTIONS:
        fn = _function(name)
        finder = doctest.DocTestFinder(recurse=False)
        tests = finder.find(fn, name, globs={})
        assert tests and tests[0].examples, f"{name} has no example"
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for t in tests:
            runner.run(t)
        assert runner.failures == 0, f"the example of {name} fails (run pytest -s to see it)"
