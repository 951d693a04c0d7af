"""``python -m pollwatch``."""

from pollwatch.cli import main

main()
