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
