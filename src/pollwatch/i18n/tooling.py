"""Extraction and checking of the catalogues (``scripts/i18n.py``, ``tests/i18n``).

Strings are extracted from ``src/pollwatch`` with the mapping in the repository's ``babel.cfg``:
Python (the calls ``_``, ``gettext``, ``ngettext``, ``N_``, ``N_plural``, ``lazy_gettext``,
``note``, ``note_plural``), the Jinja2
templates (``{{ _("...") }}``, ``{% trans %}``) and the shipped checklists (``service/forms``,
read by :func:`extract_checklist`). ``check`` is what CI runs: the catalogues must hold exactly
the extracted msgids, each translated, none fuzzy, with the same placeholders as the English.
"""

from __future__ import annotations

import ast
import io
import json
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from pollwatch.i18n import DEFAULT, DOMAIN, LANGS, po_path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/pollwatch
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "lazy_gettext": None,
    "N_plural": (1, 2),
    "note": None,  # pollwatch.i18n.note: a sentence with numbers, translated where shown
    "note_plural": (1, 2),
}
TRANSLATED = tuple(lang for lang in LANGS if lang != DEFAULT)


def extract_checklist(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for a checklist YAML: its English title, question texts and option
    labels (a form may also carry its own az/ru texts, which win over the catalogue)."""
    doc = yaml.safe_load(fileobj.read().decode("utf-8"))

    def english(value: Any) -> str | None:
        return value.get("en") if isinstance(value, dict) else value

    if title := english(doc.get("title")):
        yield 1, "_", title, [f"checklist {doc.get('name')}: title"]
    for q in doc.get("questions", ()):
        if text := english(q.get("text")):
            yield 1, "_", text, [f"checklist question {q.get('id')}"]
        options = q.get("options")
        if isinstance(options, dict):
            for code, label in options.items():
                if text := english(label):
                    yield 1, "_", text, [f"option {code} of checklist question {q.get('id')}"]


def extract_glossary(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[Any, ...]]:  # Babel's extractor protocol: (line, keyword, message, comments)
    """Babel extractor for the report's glossary (``report/glossary.py``), which keeps every
    reader-facing English string as data: the name and explanation of each ``_terms(...)``
    entry and the values of the ``TEXT`` and ``READINGS`` tables (and, in ``report/caveats.py``,
    each ``Caveat``'s title, what it detects, what it cannot see and its source line, whose
    authors and journals a translation keeps as they are). Reading them from the syntax tree keeps
    the glossary plain data (no marker on 400 literals); the module translates them where they
    are read. ``TEXT`` entries carry their key as the message context. Ordinary gettext calls
    (``N_`` on the legal citations) are read as in any module."""
    data = fileobj.read()
    opts: Any = options or {}  # the tests call the extractor without options
    yield from extract_python(io.BytesIO(data), keywords or KEYWORDS, comment_tags or (), opts)
    tree = ast.parse(data.decode("utf-8"))

    def text(node: ast.AST) -> str | None:
        return (
            node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
        )

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Caveat":
            # report/caveats.py: title, detects, blind, source
            for which, elt in zip(
                ("title", "detects", "blind", "source"), node.args[:4], strict=False
            ):
                if msg := text(elt):
                    yield elt.lineno, "_", msg, [f"caveat: {which}"]
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_terms":
            for item in node.args:
                if isinstance(item, ast.Tuple) and len(item.elts) == 3:
                    code = text(item.elts[0])
                    for which, elt in zip(("name", "explanation"), item.elts[1:], strict=True):
                        if msg := text(elt):
                            yield elt.lineno, "_", msg, [f"glossary {code}: {which}"]
        target = None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        if target in ("TEXT", "READINGS") and isinstance(value, ast.Dict):
            for key, val in zip(value.keys, value.values, strict=True):
                msg, name = text(val), text(key) if key else None
                if msg and name and target == "TEXT":
                    # the key is the context: TEXT holds single words ("signals", "none") whose
                    # translation depends on the sentence they stand in
                    yield val.lineno, "pgettext", (name, msg), [f"TEXT {name}"]
                elif msg:
                    yield val.lineno, "_", msg, [f"{target} {name}"]


def extract_calibration(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for ``report/calibration_summary.json``, the measured calibration the
    report quotes per method: each value with words in it (a false-positive rate's qualifier,
    an accuracy statement), whole, so a re-measured file asks for its new texts' translation
    (``check`` fails until they have one). Bare figures (``2.5 %``, ``0 / 2 / 4 %``) are not
    messages."""
    doc = json.loads(fileobj.read().decode("utf-8"))
    for method, d in doc.items():
        if method.startswith("_") or not isinstance(d, dict):
            continue
        for key, value in d.items():
            if isinstance(value, str) and re.search(r"[A-Za-z]{2}", value):
                yield 1, "_", value, [f"calibration {method}: {key}"]


def extract_summaries(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[Any, ...]]:  # Babel's extractor protocol: (line, keyword, message, comments)
    """Babel extractor for the methods' modules: every ordinary gettext call (Babel's Python
    extractor), plus, inside each ``summary()`` method, the ``Summary``'s title (its first
    argument, when a literal) and every row label (a literal first element of a 2-tuple). The
    report shows a method's summary with those translated (``report.build.summary_html``);
    the sentence and notes, written with the numbers in them, stay English."""
    data = fileobj.read()
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)
    tree = ast.parse(data.decode("utf-8"))
    for fn in ast.walk(tree):
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "summary"):
            continue
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Summary" and n.args:
                first = n.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield first.lineno, "_", first.value, ["summary title"]
            if isinstance(n, ast.Tuple) and len(n.elts) == 2:
                label = n.elts[0]
                if isinstance(label, ast.Constant) and isinstance(label.value, str) and label.value:
                    yield label.lineno, "_", label.value, ["summary row"]


def mapping(cfg: Path) -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """The method map and options of a ``babel.cfg``."""
    with cfg.open(encoding="utf-8") as f:
        return parse_mapping_cfg(f, str(cfg))


def extract(cfg: Path, source: Path = PACKAGE_DIR) -> Catalog:
    """Every marked string under ``source`` as a template catalogue (no translations)."""
    method_map, options_map = mapping(cfg)
    catalog = Catalog(domain=DOMAIN, project="pollwatch", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(source), method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for m in catalog:
        # Python and YAML texts are filled with str.format, never %: "100 % for the leader"
        # is not a "% f" conversion (Babel guesses python-format from the text alone); only
        # the templates' new-style gettext applies %
        if m.id and all(not f.endswith(".j2") for f, _ in m.locations):
            m.flags.discard("python-format")
    return catalog


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def write(catalog: Catalog, path: Path) -> None:
    """A ``.po`` with stable output (sorted, locations without line numbers, no width wrap
    noise) so that a diff shows what changed in the strings."""
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def new_catalog(lang: str) -> Catalog:
    catalog = Catalog(
        locale=lang,
        domain=DOMAIN,
        project="pollwatch",
        version="",
        copyright_holder="the pollwatch contributors",
        msgid_bugs_address="",
        header_comment=(
            f"# {lang} translation of pollwatch's interface and report.\n"
            "# Written by scripts/i18n.py update; translate the empty msgstr entries, then run\n"
            "# scripts/i18n.py check. Released under the project's licence (AGPL-3.0-or-later)."
        ),
        fuzzy=False,
    )
    return catalog


def update(cfg: Path) -> dict[str, int]:
    """Bring every catalogue in step with the code: new msgids added untranslated, gone ones
    dropped (no fuzzy guesses: a guess looks translated to a user). Returns untranslated counts."""
    template = extract(cfg)
    counts = {}
    for lang in TRANSLATED:
        path = po_path(lang)
        catalog = read(lang) if path.exists() else new_catalog(lang)
        catalog.update(template, no_fuzzy_matching=True)
        for m in catalog:  # update() keeps a stale format flag; the template's flags rule
            if m.id and (fresh_msg := template.get(m.id, context=m.context)) is not None:
                fresh = fresh_msg.flags
                for flag in ("python-format", "python-brace-format"):
                    (m.flags.add if flag in fresh else m.flags.discard)(flag)
        write(catalog, path)
        counts[lang] = sum(1 for m in catalog if m.id and not m.string)
    return counts


def _key(m: Any) -> str:
    """A message's msgid (the singular of a plural message), after its context if it has one
    (``headline_none|These official figures ...``)."""
    msgid = m.id if isinstance(m.id, str) else m.id[0]
    return f"{m.context}|{msgid}" if m.context else msgid


@dataclass
class Problems:
    """What ``check`` found, per language; empty when the catalogues are complete."""

    missing: dict[str, list[str]] = field(default_factory=dict)  # extracted, not in the .po
    stale: dict[str, list[str]] = field(default_factory=dict)  # in the .po, no longer extracted
    untranslated: dict[str, list[str]] = field(default_factory=dict)
    fuzzy: dict[str, list[str]] = field(default_factory=dict)
    format_errors: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(any(v.values()) for v in self.__dict__.values())

    def lines(self) -> list[str]:
        out = []
        for kind, per_lang in self.__dict__.items():
            for lang, ids in per_lang.items():
                out += [f"{lang}: {kind}: {i!r}" for i in ids]
        return out


class _Texts(HTMLParser):
    """The text of a page as a reader sees it: text nodes and the ``title``, ``alt``,
    ``placeholder`` and ``aria-label`` attributes (not scripts or styles, nor ``<code>`` or a
    ``class="mono"`` cell: a code such as ``turnout``, a path or a command line is shown on
    purpose, as the machine reads it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0
        self._skipped: list[str] = []  # the tags whose text is not read, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("script", "style", "code") or "mono" in classes:
            self._skip += 1
            self._skipped.append(tag)
        for name, value in attrs:
            if name in ("title", "alt", "placeholder", "aria-label") and value:
                self.out.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self._skipped and tag == self._skipped[-1]:
            self._skipped.pop()
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.out.append(data)


#: three or more Latin-letter words in a row (a number, a comma or brackets may sit between)
_LATIN_RUN = re.compile(
    r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:()/]+(?:\d[\d.,%]*[\s,;:()/]+)*[A-Za-z][A-Za-z'’-]*){2,}"
)


#: proper names a Russian page keeps in Latin letters: the authors and journals of the methods'
#: sources, as published (a citation is not translated)
PROPER_NAMES = (
    "Klimek et al",
    "Klimek, Yegorov, Hanel",
    "Ann. Appl. Stat",
    "Kobak, Shpilkin",
    "Ferrari, McAlister",
    "Deckert, Myagkov",
    "Mebane (2016); Ferrari, McAlister",
    "Ordeshook (2011) Political Analysis",
    "Rozenas (2017), Political Analysis",
    "Scacco (2012); Deckert, Myagkov",
    "Political Analysis",
    "EFToolkit",
    "Good 2005",
)
_DOCS_PATH = re.compile(r"\bdocs/[\w/.\-]+(?:\.md)?(?:\s*§[\d.]+)?")


def english_runs(html: str, allow: Iterable[str] = (), min_words: int = 3) -> list[str]:
    """Runs of ``min_words`` or more Latin-letter words in a rendered Russian page's text (as
    :func:`leftover_english` reads it: no scripts, styles, ``<code>`` or ``mono`` cells):
    English a reader would meet. ``allow``: texts that are data (a candidate, a region, an
    observer's own words), removed before looking, as are :data:`PROPER_NAMES` and paths to
    this repository's ``docs/``. Meant for Russian pages; Azerbaijani is written in Latin
    letters."""
    parser = _Texts()
    parser.feed(html)
    found = []
    for text in parser.out:
        text = _DOCS_PATH.sub(" ", text)
        for a in sorted((*allow, *PROPER_NAMES), key=len, reverse=True):
            text = text.replace(a, " ")
        for m in _LATIN_RUN.finditer(text):
            if len(re.findall(r"[A-Za-z][A-Za-z'’-]*", m[0])) >= min_words:
                found.append(" ".join(m[0].split()))
    return sorted(set(found))


def leftover_english(html: str, lang: str, catalog: Catalog | None = None) -> list[str]:
    """Texts of a rendered page that are a catalogue's English msgid left untranslated: a
    text node (or title/alt attribute) equal to a msgid whose ``lang`` translation differs
    from it. Words the translation keeps (``SHA-256``, ``status`` in Azerbaijani) never count."""
    catalog = catalog or read(lang)
    english = {}
    for m in catalog:
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string:
            if m.string.strip() != m.id.strip() and "{" not in m.id and "%(" not in m.id:
                english[" ".join(m.id.split()).rstrip(".:").casefold()] = m.id
    parser = _Texts()
    parser.feed(html)
    found = []
    for text in parser.out:
        key = " ".join(text.split()).rstrip(".:").casefold()
        if key in english:
            found.append(english[key])
    return sorted(set(found))


def _fields(text: str) -> set[str] | None:
    """The names of a ``str.format`` string's fields; None if it is not a valid one."""
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return None


def brace_errors(m: Any) -> list[str]:
    """Placeholders of a ``{name}`` message that its translation gets wrong (Babel checks only
    ``%(name)s`` ones). A translation may not name a field the code does not pass (a KeyError
    on the reply) nor drop one; a plural form may drop the count (Russian "one station")."""
    if "python-brace-format" not in m.flags:
        return []
    ids = [m.id] if isinstance(m.id, str) else list(m.id)
    strings = [m.string] if isinstance(m.string, str) else list(m.string)
    allowed = set().union(*(_fields(i) or set() for i in ids))
    errors = []
    for text in (t for t in strings if t):
        got = _fields(text)
        if got is None:
            errors.append(f"translation {text!r} is not a valid format string")
        elif got - allowed:
            errors.append(f"translation names unknown placeholders {sorted(got - allowed)}")
        elif isinstance(m.id, str) and allowed - got:
            errors.append(f"translation drops placeholders {sorted(allowed - got)}")
    return errors


def check(cfg: Path, source: Path = PACKAGE_DIR) -> Problems:
    """Compare the catalogues with a fresh extraction of ``source`` (in memory, nothing
    written): every msgid present, translated, not fuzzy, with the English placeholders."""
    template = extract(cfg, source)
    wanted = {_key(m) for m in template if m.id}
    problems = Problems()
    for lang in TRANSLATED:
        catalog = read(lang)
        have = {_key(m) for m in catalog if m.id}
        problems.missing[lang] = sorted(wanted - have)
        problems.stale[lang] = sorted(have - wanted)
        strings = [m for m in catalog if m.id]
        for m in strings:  # reading a .po re-guesses python-format from the text: undo it
            fresh_msg = template.get(m.id, context=m.context)
            if fresh_msg is not None and "python-format" not in fresh_msg.flags:
                m.flags.discard("python-format")
        problems.untranslated[lang] = sorted(
            _key(m)
            for m in strings
            if not (m.string.strip() if isinstance(m.string, str) else all(m.string or ()))
        )
        problems.fuzzy[lang] = sorted(_key(m) for m in strings if m.fuzzy)
        problems.format_errors[lang] = [
            f"{_key(m)}: {e}" for m, errors in catalog.check() for e in errors
        ] + [f"{_key(m)}: {e}" for m in strings for e in brace_errors(m)]
    return problems
