"""Structured SMS intake, in the spirit of NDI Apollo's format (``apollo/messaging/utils.py``).

Checklist::   <FORM><OBSERVER> [#STATION] <Q><VALUE> <Q><VALUE> ... [@comment]
              e.g. ``OP 1234 #12-044 A0815 B1 C1 D1500 E1 F0800``
Incident::    IN<OBSERVER> [#STATION] <CATEGORY> [S<1-4>] [@description]
              e.g. ``IN1234 BS S4 @box stuffed at 14:10``

* The form code is the first two letters; the observer id is the number after it (the user id).
* Question codes are the short codes in ``forms/*.yaml``; yes/no is 1/0, a choice is its number
  (1, 2, ...), a time is ``HHMM`` or ``HH:MM``. ``I``, ``L`` and ``O`` never start a question
  code: inside numbers they are read as 1, 1 and 0 (phone keyboards confuse them).
* Punctuation and spacing are ignored (except ``#`` before a station and ``@`` before a comment).
* ``#STATION`` may be left out when the observer has exactly one assigned station.

``parse_sms`` is pure (no database) and never raises: it returns either a ``ParsedSms`` or an
``SmsProblem`` whose ``reply(lang)`` names what was wrong, in English, Azerbaijani or Russian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pollwatch.i18n import LANGS as LANGS  # re-exported: the languages a reply comes in
from pollwatch.i18n import N_, N_plural, gettext, ngettext
from pollwatch.service.forms import AnswerError, by_code, forms
from pollwatch.service.taxonomy import CATEGORIES, SEVERITIES, by_sms_code

MAX_LEN = 1600
_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NUMCHARS = set("0123456789OIL")

# replies by key, in English (gettext msgids, translated in pollwatch.i18n's catalogues); a pair
# is a singular and a plural chosen by the parameter ``n`` (Russian has three forms)
MESSAGES: dict[str, str | tuple[str, str]] = {
    "empty": N_("Empty message. Send: FORM OBSERVER-ID answers, e.g. OP1234 A0815 B1."),
    "too_long": N_("Message too long ({n} characters; at most {max})."),
    "unknown_form": N_("Unknown form code '{code}'. Known codes: {known}."),
    "no_observer": N_("Observer ID missing after form code {code}."),
    "unknown_observer": N_("Unknown observer ID {observer}."),
    "unknown_question": N_("Unknown question code '{tag}' in form {code}."),
    "no_value": N_("Question {tag} has no value."),
    "no_tag": N_("Value '{value}' has no question code before it."),
    "bad_value": N_("Invalid value '{value}' for question {tag}: {why}."),
    "duplicate": N_("Question {tag} answered twice."),
    "no_category": N_("Incident category missing. Codes: {known}."),
    "unknown_category": N_("Unknown incident category '{tag}'. Codes: {known}."),
    "bad_severity": N_("Severity must be S1 to S4, got '{value}'."),
    "no_station": N_plural(
        "Station missing: you have {n} station; add #CODE.",
        "Station missing: you have {n} stations; add #CODE.",
    ),
    "unknown_station": N_("Station {station} is not assigned to observer {observer}."),
    "not_accredited": N_("Observer {observer} is not accredited."),
    # to a sender who is not a registered observer: reveals nothing
    "not_accepted": N_("Message not accepted."),
    # to a registered observer who typed another id (only their own phone sees it)
    "wrong_id": N_("Observer ID {observer} does not match this phone's registration."),
    "ok": N_("Received {code} from {observer} for station {station}. Thank you."),
    "missing": N_(" You may be missing: {tags}."),
}


def message(key: str, lang: str = "en", **params) -> str:
    """The reply ``key`` in ``lang`` (English for an unknown language), filled with ``params``;
    an ``AnswerError`` parameter is given in ``lang`` too."""
    text = MESSAGES[key]
    if isinstance(text, tuple):
        template = ngettext(text[0], text[1], int(params["n"]), lang)
    else:
        template = gettext(text, lang)
    shown = {k: v.reason(lang) if isinstance(v, AnswerError) else v for k, v in params.items()}
    return template.format(**shown)


@dataclass(frozen=True)
class SmsProblem:
    """What was wrong with a message; ``reply(lang)`` is the text sent back."""

    key: str
    params: dict = field(default_factory=dict)
    observer: int | None = None  # when known, the reply uses that observer's language

    def reply(self, lang: str = "en") -> str:
        return message(self.key, lang, **self.params)


@dataclass(frozen=True)
class ParsedSms:
    form_code: str
    observer: int
    station: str | None
    form: str | None = None  # checklist name, or None for an incident
    answers: dict = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    category: str | None = None
    severity: str = "medium"
    comment: str = ""


def _known_forms() -> str:
    return ", ".join(sorted([f.code for f in forms().values()] + ["IN"]))


def _known_categories() -> str:

    return " ".join(v["sms"] for v in CATEGORIES.values())


def _pairs(body: str) -> list[tuple[str, str]] | SmsProblem:
    """Split ``A0815B1CR`` into ``[("A","0815"), ("B","1"), ("CR","")]`` (look-alikes in values)."""
    out, i = [], 0
    while i < len(body):
        j = i
        while j < len(body) and body[j].isalpha() and body[j] not in "ILO" and body[j].isascii():
            j += 1
        k = j
        while k < len(body) and body[k] in _NUMCHARS:
            k += 1
        if j == i and k == j:  # a character that is neither: a non-ASCII letter
            return SmsProblem("no_tag", {"value": body[i : i + 10]})
        if j == i:
            return SmsProblem("no_tag", {"value": body[j:k]})
        out.append((body[i:j], body[j:k].translate(_LOOKALIKE)))
        i = k
    return out


def parse_sms(text: str) -> ParsedSms | SmsProblem:
    """Parse one message; never raises."""
    if not isinstance(text, str) or not text.strip():
        return SmsProblem("empty")
    if len(text) > MAX_LEN:
        return SmsProblem("too_long", {"n": len(text), "max": MAX_LEN})
    text, _, comment = text.partition("@")
    station = None
    m = re.search(r"#\s*([\w\-/]+)", text)
    if m:
        station, text = m[1], text[: m.start()] + " " + text[m.end() :]
    # separators end the observer id ("OP12 1" is observer 12, then a value without a code)
    words = re.sub(r"[\W_]+", " ", text).upper().split()
    if not words:
        return SmsProblem("empty")
    code = words[0][:2]
    if len(code) < 2 or not code.isalpha():
        return SmsProblem("unknown_form", {"code": code, "known": _known_forms()})
    if code != "IN" and by_code(code) is None:
        return SmsProblem("unknown_form", {"code": code, "known": _known_forms()})
    first = words[0][2:] or (words[1] if len(words) > 1 else "")
    after = words[1:] if words[0][2:] else words[2:]
    n = 0
    while n < len(first) and first[n] in _NUMCHARS:
        n += 1
    digits = first[:n].translate(_LOOKALIKE)
    if not digits:
        return SmsProblem("no_observer", {"code": code})
    if len(digits) > 12:
        return SmsProblem("unknown_observer", {"observer": digits[:12] + "…"})
    rest = first[n:] + "".join(after)
    common = {
        "form_code": code,
        "observer": int(digits),
        "station": station,
        "comment": comment.strip()[:1000],
    }
    if code == "IN":
        out = _incident(rest, common)
    else:
        pairs = _pairs(rest)
        out = pairs if isinstance(pairs, SmsProblem) else _checklist(code, pairs, common)
    return replace(out, observer=int(digits)) if isinstance(out, SmsProblem) else out


def _checklist(code: str, pairs: list[tuple[str, str]], common: dict) -> ParsedSms | SmsProblem:
    form = by_code(code)
    assert form is not None
    answers: dict = {}
    for tag, value in pairs:
        q = next((q for q in form.questions if q.code == tag), None)
        if q is None:
            return SmsProblem("unknown_question", {"tag": tag[:10], "code": code})
        if not value:
            return SmsProblem("no_value", {"tag": tag})
        if q.id in answers:
            return SmsProblem("duplicate", {"tag": tag})
        try:
            answers[q.id] = q.parse_value(value)
        except ValueError as exc:
            return SmsProblem("bad_value", {"tag": tag, "value": value[:20], "why": exc})
    if common["comment"]:
        text_q = next((q for q in form.questions if q.type == "text"), None)
        if text_q is not None and text_q.id not in answers:
            answers[text_q.id] = common["comment"]
    missing = tuple(q.code for q in form.questions if q.required and q.id not in answers)
    return ParsedSms(form=form.name, answers=answers, missing=missing, **common)


def _incident(body: str, common: dict) -> ParsedSms | SmsProblem:
    """Category = the two letters after the observer id; then an optional ``S<1-4>``."""
    if not body:
        return SmsProblem("no_category", {"known": _known_categories()})
    category = by_sms_code(body[:2])
    if category is None:
        return SmsProblem("unknown_category", {"tag": body[:2], "known": _known_categories()})
    severity, rest = "medium", body[2:]
    if rest:
        if not (rest[0] == "S" and len(rest) == 2 and rest[1] in "1234"):
            return SmsProblem("bad_severity", {"value": rest[:10]})
        severity = SEVERITIES[int(rest[1]) - 1]
    return ParsedSms(category=category, severity=severity, **common)


def receipt_suffix(receipt) -> str:
    """What an SMS reply gains from the submission's receipt (``checkpoint.Receipt``, or None:
    nothing): `` #<entry> pw1s <size> <root prefix>``, about 35 characters so the reply stays
    one SMS. The short checkpoint is unsigned; the phone that kept it vouches for it (the API
    and the web pages give the full, signed receipt line)."""
    if receipt is None:
        return ""
    return f" #{receipt.seq} {receipt.checkpoint.short()}"
