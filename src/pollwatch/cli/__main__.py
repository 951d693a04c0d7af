"""``python -m pollwatch.cli``."""

from pollwatch.cli import main

main()
