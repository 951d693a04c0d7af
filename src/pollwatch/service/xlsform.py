"""XLSForm (ODK Collect, KoboToolbox) to the service's checklist YAML (``service.forms``).

The workbook is checked by the community's ``pyxform`` (the converter ODK and Kobo use: a form
it refuses, they refuse) and read cell by cell with openpyxl, so that everything the service's
checklist model cannot express is reported with its sheet, row and column, all at once, and
nothing is dropped silently: what is ignored on purpose (notes, group headings, hints,
metadata) comes back as a warning. The mapping is the table in docs/forms-and-people.md.

Labels per language come from XLSForm's ``label::Language (code)`` columns; the service needs
a label in each of its languages (``LANGS``). ``lang_columns`` maps other headers to a code
(``{"label::Azərbaycanca": "az"}``, or the plain ``label`` column)."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from openpyxl.utils import get_column_letter
from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert as pyxform_convert

from pollwatch.service import forms as service_forms
from pollwatch.service.i18n import LANGS

LANG_NAMES = {"english": "en", "azerbaijani": "az", "azərbaycanca": "az", "russian": "ru"}
RESERVED_CODES = {"IN"}  # SMS: incidents; "R" + digits are results (``service.sms.parse_sms``)
SMS_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "ILO")
META_TYPES = {"start", "end", "today", "deviceid", "username", "phonenumber", "simserial",
              "subscriberid", "audit", "email", "start-geopoint"}  # fmt: skip
UNSUPPORTED = {"calculate", "geopoint", "geotrace", "geoshape", "image", "audio", "video",
               "file", "barcode", "acknowledge", "range", "rank", "datetime",
               "background-audio", "begin_repeat", "end_repeat", "hidden", "select_one_from_file",
               "select_multiple_from_file", "trigger", "xml-external", "csv-external"}  # fmt: skip
SUPPORTED = ("integer", "decimal", "text", "select_one", "select_multiple", "time", "date",
             "note", "begin_group", "end_group")  # fmt: skip
# columns whose content the service cannot carry: a non-empty cell is an error
REFUSED_COLUMNS = {"relevant": "skip logic (the service's checklists show every question)",
                   "calculation": "calculations", "choice_filter": "cascading choices",
                   "repeat_count": "repeats", "trigger": "triggers", "default": "default answers",
                   "read_only": "read-only questions"}  # fmt: skip
IGNORED_COLUMNS = ("hint", "guidance_hint", "appearance", "constraint_message",
                   "required_message", "parameters", "media", "image", "audio", "video")  # fmt: skip
_BOUND = re.compile(r"^\s*\.\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_LANG_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = {"yes", "true", "true()", "1"}
_FALSE = {"", "no", "false", "false()", "0"}


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class XLSFormError(ValueError):
    """Every problem of a workbook, each with its sheet, row and column."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{source}: {len(problems)} problem(s) the service cannot import:\n{lines}"
        )


@dataclass
class Converted:
    """A checklist converted from an XLSForm: its YAML document and what was left out."""

    checklist: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.checklist["name"])

    def yaml(self) -> str:
        return yaml.safe_dump(self.checklist, allow_unicode=True, sort_keys=False, width=100)

    def write(self, directory: Path) -> Path:
        """Write ``<name>.yaml`` into ``directory`` after checking the service's loader reads it
        back (``forms.load``), and the whole directory still loads (no shared name or code)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.yaml"
        tmp = directory / f".{self.name}.yaml.tmp"
        tmp.write_text(self.yaml(), encoding="utf-8")
        try:
            service_forms.load(tmp)
            others = {p.name for p in directory.glob("*.yaml")} - {path.name}
            for other in sorted(others):
                f = service_forms.load(directory / other)
                if f.code == self.checklist["code"]:
                    raise ValueError(f"{directory / other} already uses the code {f.code!r}")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        service_forms.forms.cache_clear()
        return path


def _lang_of(header: str, base: str, lang_columns: dict[str, str]) -> str | None:
    """The language code of a ``label``/``label::…`` header (``None``: not a column of ``base``)."""
    if header in lang_columns:
        return lang_columns[header]
    low = header.strip().lower()
    if low == base:
        return ""  # the untranslated column: the settings' default_language, else English
    if not low.startswith(base + "::"):
        return None
    rest = header.split("::", 1)[1].strip()
    m = _LANG_CODE.search(rest)
    if m:
        return m[1].lower().split("-")[0]
    return LANG_NAMES.get(rest.lower(), rest.lower())


def _sheet(wb, name: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]] | None:
    """Headers and the non-empty rows (with their sheet row number) of sheet ``name``."""
    ws = next((wb[n] for n in wb.sheetnames if n.strip().lower() == name), None)
    if ws is None:
        return None
    rows = ws.iter_rows(values_only=True)
    head = next(rows, None) or ()
    headers = [str(h).strip() if h is not None else "" for h in head]
    out = []
    for i, row in enumerate(rows, start=2):
        cells = {headers[j]: v for j, v in enumerate(row) if j < len(headers) and headers[j]}
        if any(v not in (None, "") for v in cells.values()):
            out.append((i, cells))
    return headers, out


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _codes() -> Iterator[str]:
    """A, B, …, Z, AA, AB, …, ZZ without I, L and O: the SMS letters of questions without a
    ``compact_tag`` (the SMS parser reads I, L and O in a value as 1, 1 and 0, so a tag never
    contains them: ``service.sms._pairs``)."""
    for n in (1, 2):
        yield from ("".join(p) for p in itertools.product(SMS_LETTERS, repeat=n))


def convert(
    data: bytes,
    *,
    source: str = "form.xlsx",
    lang_columns: dict[str, str] | None = None,
    code: str | None = None,
) -> Converted:
    """The checklist of the XLSForm workbook ``data``; :class:`XLSFormError` listing every
    problem (pyxform's own and what the checklist model cannot express)."""
    lang_columns = lang_columns or {}
    problems: list[Problem] = []
    warnings: list[str] = []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a non-workbook
        raise XLSFormError(source, [Problem("workbook", None, None, f"not an .xlsx file: {exc}")]) from None  # fmt: skip
    survey = _sheet(wb, "survey")
    if survey is None:
        raise XLSFormError(source, [Problem("workbook", None, None, "no sheet named 'survey'")])
    choices_sheet = _sheet(wb, "choices")
    settings_sheet = _sheet(wb, "settings")
    settings = settings_sheet[1][0][1] if settings_sheet and settings_sheet[1] else {}
    settings_row = settings_sheet[1][0][0] if settings_sheet and settings_sheet[1] else 2

    default_lang = "en"
    if _text(settings.get("default_language")):
        dl = _lang_of("label::" + _text(settings["default_language"]), "label", {})
        default_lang = dl or "en"

    def letter(headers: list[str], name: str) -> str:
        return get_column_letter(headers.index(name) + 1) + f" ({name})" if name in headers else name  # fmt: skip

    def label_columns(headers: list[str], sheet: str) -> dict[str, str]:
        cols: dict[str, str] = {}
        for h in headers:
            lang = _lang_of(h, "label", lang_columns)
            if lang is None:
                continue
            lang = lang or default_lang
            if lang not in LANGS:
                warnings.append(f"{sheet}: column {h!r} ({lang}) ignored: the service speaks {', '.join(LANGS)}")  # fmt: skip
                continue
            if lang in cols.values():
                problems.append(Problem(sheet, 1, letter(headers, h), f"a second label column for {lang!r}"))  # fmt: skip
                continue
            cols[h] = lang
        for lang in LANGS:
            if lang not in cols.values():
                problems.append(Problem(sheet, 1, None, f"no label column for {lang!r} (expected e.g. 'label::{ {'en': 'English', 'az': 'Azerbaijani', 'ru': 'Russian'}[lang]} ({lang})'; map another header with --lang-column HEADER={lang})"))  # fmt: skip
        return cols

    # choices: list name -> [(name, {lang: label})]
    lists: dict[str, list[tuple[str, dict[str, str]]]] = {}
    if choices_sheet is not None:
        c_headers, c_rows = choices_sheet
        c_labels = label_columns(c_headers, "choices")
        list_col = "list_name" if "list_name" in c_headers else "list name"
        for row, cells in c_rows:
            lname, cname = _text(cells.get(list_col)), _text(cells.get("name"))
            if not lname or not cname:
                col = list_col if not lname else "name"
                problems.append(Problem("choices", row, letter(c_headers, col), f"missing {col}"))
                continue
            lists.setdefault(lname, []).append(
                (cname, {lang: _text(cells.get(h)) for h, lang in c_labels.items()})
            )

    s_headers, s_rows = survey
    for col in ("type", "name"):
        if col not in s_headers:
            problems.append(Problem("survey", 1, None, f"no column {col!r}"))
    if problems:
        raise XLSFormError(source, problems)
    labels = label_columns(s_headers, "survey")
    for col in IGNORED_COLUMNS:
        if any(_text(c.get(h)) for _, c in s_rows for h in s_headers if h.split("::")[0] == col):
            warnings.append(f"survey: column {col!r} ignored (the service's checklists have no {col})")  # fmt: skip

    questions: list[dict[str, Any]] = []
    taken_codes: set[str] = set()
    groups: list[str] = []

    def add(row: int, q: dict[str, Any], tag: str) -> None:
        if tag:
            tag_u = tag.upper()
            if not tag_u.isascii() or not tag_u.isalpha() or set(tag_u) & set("ILO") or len(tag_u) > 3:  # fmt: skip
                problems.append(Problem("survey", row, letter(s_headers, "compact_tag"), f"compact_tag {tag!r}: 1-3 letters without I, L or O (SMS reads them as digits)"))  # fmt: skip
            elif tag_u in taken_codes:
                problems.append(Problem("survey", row, letter(s_headers, "compact_tag"), f"compact_tag {tag!r} used twice"))  # fmt: skip
            taken_codes.add(tag_u)
            q["code"] = tag_u
        questions.append(q)

    for row, cells in s_rows:
        raw_type = _text(cells.get("type"))
        parts = raw_type.split()
        base = parts[0].lower().replace(" ", "_") if parts else ""
        if base in ("begin", "end") and len(parts) > 1:  # "begin group", "end group"
            base, parts = f"{base}_{parts[1].lower()}", [f"{base}_{parts[1].lower()}", *parts[2:]]
        name = _text(cells.get("name"))
        tcol = letter(s_headers, "type")
        ncol = letter(s_headers, "name")
        if not base:
            problems.append(Problem("survey", row, tcol, "missing type"))
            continue
        if base == "end_group":
            if groups:
                groups.pop()
            continue
        if not name:
            problems.append(Problem("survey", row, ncol, "missing name"))
            continue
        if not _NAME.match(name):
            problems.append(Problem("survey", row, ncol, f"name {name!r} is not a valid name (letters, digits, _; not starting with a digit)"))  # fmt: skip
            continue
        if base == "begin_group":
            groups.append(name)
            warnings.append(f"survey, row {row}: group {name!r} flattened (the service shows one list of questions; its heading is not shown)")  # fmt: skip
            continue
        if base == "note":
            warnings.append(f"survey, row {row}: note {name!r} not imported (checklists have no notes)")  # fmt: skip
            continue
        if base in META_TYPES:
            warnings.append(f"survey, row {row}: metadata {base!r} not imported (the service records who filed and when)")  # fmt: skip
            continue
        if base in UNSUPPORTED:
            problems.append(Problem("survey", row, tcol, f"type {raw_type!r} cannot be expressed by the service's checklists; supported: {', '.join(SUPPORTED)}"))  # fmt: skip
            continue
        if base not in SUPPORTED:
            problems.append(Problem("survey", row, tcol, f"unknown type {raw_type!r}; supported: {', '.join(SUPPORTED)}"))  # fmt: skip
            continue
        for col, what in REFUSED_COLUMNS.items():
            if _text(cells.get(col)):
                problems.append(Problem("survey", row, letter(s_headers, col), f"{what} cannot be expressed: {_text(cells.get(col))!r}"))  # fmt: skip
        req_raw = _text(cells.get("required")).lower()
        if req_raw in _TRUE:
            required = True
        elif req_raw in _FALSE:
            required = False
        else:
            problems.append(Problem("survey", row, letter(s_headers, "required"), f"required {req_raw!r}: only yes/no can be expressed (no conditional requirement)"))  # fmt: skip
            required = False
        text: dict[str, str] = {}
        for h, lang in labels.items():
            t = _text(cells.get(h))
            if not t:
                problems.append(Problem("survey", row, letter(s_headers, h), f"empty label for {lang!r}"))  # fmt: skip
            text[lang] = t
        tag = _text(cells.get("compact_tag"))
        q: dict[str, Any] = {"id": name, "required": required, "text": text}
        constraint = _text(cells.get("constraint"))
        if base in ("integer", "decimal"):
            q["type"] = "number" if base == "integer" else "decimal"
            for clause in filter(None, re.split(r"\s+and\s+", constraint)) if constraint else ():
                m = _BOUND.match(clause)
                if not m:
                    problems.append(Problem("survey", row, letter(s_headers, "constraint"), f"constraint {clause!r} cannot be expressed (only '. >= N', '. <= N', '. > N', '. < N' joined by 'and')"))  # fmt: skip
                    continue
                op, value = m[1], float(m[2])
                if base == "integer":
                    if not value.is_integer():
                        problems.append(Problem("survey", row, letter(s_headers, "constraint"), f"constraint {clause!r}: a whole-number bound is needed for an integer"))  # fmt: skip
                        continue
                    bound: float = int(value) + (1 if op == ">" else -1 if op == "<" else 0)
                elif op in (">", "<"):
                    problems.append(Problem("survey", row, letter(s_headers, "constraint"), f"constraint {clause!r}: a strict bound cannot be expressed for a decimal (use >= or <=)"))  # fmt: skip
                    continue
                else:
                    bound = value
                q["min" if op.startswith(">") else "max"] = bound
            add(row, q, tag)
            continue
        if constraint:
            problems.append(Problem("survey", row, letter(s_headers, "constraint"), f"constraint {constraint!r} cannot be expressed for type {base!r} (only on integer and decimal)"))  # fmt: skip
        if base in ("text", "time", "date"):
            q["type"] = base
            add(row, q, tag)
            continue
        # select_one / select_multiple LIST
        if len(parts) != 2:
            problems.append(Problem("survey", row, tcol, f"{base} needs one choice list: '{base} LIST', found {raw_type!r}"))  # fmt: skip
            continue
        options = lists.get(parts[1])
        if not options:
            problems.append(Problem("survey", row, tcol, f"choice list {parts[1]!r} is not on the choices sheet"))  # fmt: skip
            continue
        names = [o[0] for o in options]
        if base == "select_one" and sorted(n.lower() for n in names) == ["no", "yes"]:
            q["type"] = "yesno"
            add(row, q, tag)
            continue
        lowered = [n.lower() for n in names]
        if len(set(lowered)) != len(lowered):
            problems.append(Problem("choices", None, None, f"list {parts[1]!r} has option names that differ only in case (answers are compared in lower case)"))  # fmt: skip
            continue
        if base == "select_one":
            q["type"] = "choice"
            q["options"] = lowered
            warnings.append(f"survey, row {row}: {name!r} shows its option names ({', '.join(lowered)}), not the choice labels")  # fmt: skip
            add(row, q, tag)
            continue
        # select_multiple: one yes/no question per option, as ODK's CSV export splits it
        for (oname, olabel), low in zip(options, lowered, strict=True):
            sub = {
                "id": f"{name}__{low}",
                "type": "yesno",
                "required": required,
                "text": {
                    lang: f"{text.get(lang, '')}: {olabel.get(lang) or oname}" for lang in text
                },
            }
            add(row, sub, "")
    if not questions and not problems:
        problems.append(Problem("survey", None, None, "no question the service can import"))

    form_id = _text(settings.get("form_id")) or Path(source).stem
    form_name = re.sub(r"[^a-z0-9_]+", "_", form_id.lower()).strip("_")
    if not form_name:
        problems.append(Problem("settings", settings_row, "form_id", f"form_id {form_id!r} gives no usable checklist name"))  # fmt: skip
    form_code = (code or _text(settings.get("prefix"))).upper()
    if not form_code:
        problems.append(Problem("settings", settings_row, "prefix", "no SMS code for the checklist: set the settings sheet's 'prefix' (XLSForm's SMS keyword) or pass --code"))  # fmt: skip
    elif (
        not re.fullmatch(r"[A-Z]{2}", form_code)
        or form_code in RESERVED_CODES
        or re.fullmatch(r"R[OIL]", form_code)
    ):
        # the SMS parser reads a message's first two letters as the checklist's code
        problems.append(Problem("settings", settings_row, "prefix", f"SMS code {form_code!r}: exactly 2 letters, not IN, RO, RI or RL (read as incidents and results)"))  # fmt: skip
    title: dict[str, str] = {}
    base_title = _text(settings.get("form_title"))
    for h, v in settings.items():
        tlang = _lang_of(h, "form_title", lang_columns)
        if tlang and tlang in LANGS and _text(v):
            title[tlang] = _text(v)
    if not base_title and not title:
        base_title = form_id  # as ODK Collect does: the form's id names an untitled form
        warnings.append(f"settings: no form_title; the checklist is titled {form_id!r}")
    for lang in LANGS:
        if lang not in title:
            title[lang] = base_title or next(iter(title.values()))

    try:
        pyxform_convert(xlsform=io.BytesIO(data), file_type=".xlsx", validate=False)
    except PyXFormError as exc:
        problems.append(Problem("workbook", None, None, f"pyxform: {exc}"))
    except Exception as exc:  # pyxform's own bugs on odd workbooks: still the user's to see
        problems.append(Problem("workbook", None, None, f"pyxform failed: {type(exc).__name__}: {exc}"))  # fmt: skip
    if problems:
        raise XLSFormError(source, problems)

    auto = (c for c in _codes() if c not in taken_codes)
    for q in questions:
        q.setdefault("code", next(auto))
    ordered = [
        {
            k: q[k]
            for k in ("code", "id", "type", "required", "min", "max", "options", "text")
            if k in q
        }  # fmt: skip
        for q in questions
    ]
    checklist = {
        "code": form_code,
        "name": form_name,
        "title": title,
        "source": {
            "xlsform": Path(source).name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "form_id": form_id,
            "version": _text(settings.get("version")),
        },
        "questions": ordered,
    }
    return Converted(checklist, warnings)
