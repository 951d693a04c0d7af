"""Keep the translation catalogues in step with the code.

    python scripts/i18n.py extract [--out FILE]   # the template (.pot) of every marked string
    python scripts/i18n.py update                 # add new strings to az/ru .po, drop gone ones
    python scripts/i18n.py check                  # exit 1 if a string is missing, untranslated or fuzzy

Run from the repository root with ``PYTHONPATH=src``. The catalogues are
``src/pollwatch/i18n/locale/{az,ru}/LC_MESSAGES/pollwatch.po``; the mapping is ``babel.cfg``.
After ``update``, translate the empty ``msgstr`` entries and run ``check``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.pofile import write_po

from pollwatch.i18n import tooling

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / "babel.cfg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ext = sub.add_parser("extract", help="write the template catalogue")
    ext.add_argument("--out", type=Path, default=None, help="default: standard output")
    sub.add_parser("update", help="merge new strings into the az and ru catalogues")
    sub.add_parser("check", help="fail on missing, stale, untranslated or fuzzy strings")
    args = parser.parse_args(argv)

    if args.command == "extract":
        template = tooling.extract(CFG)
        if args.out:
            tooling.write(template, args.out)
        else:
            buf = io.BytesIO()
            write_po(buf, template, width=100, sort_output=True, include_lineno=False)
            sys.stdout.write(buf.getvalue().decode("utf-8"))
        return 0
    if args.command == "update":
        for lang, n in tooling.update(CFG).items():
            print(f"{lang}: {n} untranslated")
        return 0
    problems = tooling.check(CFG)
    for line in problems.lines():
        print(line)
    print("catalogues complete" if not problems else "catalogues incomplete", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
