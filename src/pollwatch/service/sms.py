"""Structured SMS intake, in the spirit of NDI Apollo's format (``apollo/messaging/utils.py``).

Checklist::   <FORM><OBSERVER> [#STATION] <Q><VALUE> <Q><VALUE> ... [@comment]
              e.g. ``OP 1234 #12-044 A0815 B1 C1 D1500 E1 F0800``
Incident::    IN<OBSERVER> [#STATION] <CATEGORY> [S<1-4>] [@description]
              e.g. ``IN1234 BS S4 @box stuffed at 14:10``
Results::     R<OBSERVER> [#STATION] <BALLOTS> <C1> <C2> ... <CK> <TOTAL>
              e.g. ``R1234 #12-044 612 400 200 600``

* Results (the quick count's message, issue 19): ``BALLOTS`` is the ballots found in the boxes,
  ``C1``…``CK`` every candidate's votes in ballot order, and ``TOTAL`` the valid votes as the
  protocol states them. The numbers are separated by spaces or any punctuation.
  ``TOTAL`` is a control total, not a check digit: it is a line the observer copies from the
  protocol sheet (no arithmetic on a phone, where a hand-computed check digit would itself be a
  source of errors), it catches a mistyped or missing candidate count (the sum no longer
  matches), and it is a figure the quick count needs anyway. What it cannot catch, two counts
  swapped, a check digit weighted by position would; observers would have to compute it by
  hand, so the order is instead echoed back in the reply for the observer to compare. The
  invalid ballots are ``BALLOTS - TOTAL``. ``read_results`` checks the count of numbers against
  the election's candidates and words each problem (``sms_intake`` stores the copy).

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
    "results_count": N_(
        "Expected {expected} numbers after the station (ballots in boxes, {k} candidates in ballot order, total valid votes), got {n}."
    ),
    "results_not_number": N_("{field}: '{value}' is not a whole number."),
    "results_too_big": N_("{field}: {value} is too large (at most {max})."),
    "field_ballots": N_("Ballots in boxes"),
    "field_candidate": N_("Candidate {i} ({name})"),
    "field_total": N_("Total valid votes (last number)"),
    "results_ok": N_(
        "Results for station {station} received: ballots {ballots}; {votes}; total {total}. Thank you."
    ),
    "results_flagged": N_(
        "Results for station {station} stored with a problem: {problems}. Check the protocol and send the corrected message."
    ),
    "rule_votes_ne_valid": N_("the candidates' votes add up to {sum}, but the total is {total}"),
    "rule_boxes_lt_valid": N_(
        "ballots in boxes ({ballots}) are fewer than the total valid votes ({total})"
    ),
    "rule_cast_exceed_registered": N_(
        "ballots in boxes ({ballots}) exceed the registered voters ({registered})"
    ),
    "rule_votes_exceed_registered": N_(
        "the candidates' votes ({sum}) exceed the registered voters ({registered})"
    ),
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
        params = {
            k: replace(v, lang=lang) if isinstance(v, FieldName) else v
            for k, v in self.params.items()
        }
        return message(self.key, lang, **params)


@dataclass(frozen=True)
class ParsedResults:
    """A results message as typed: the numbers after the observer id (and station), unread;
    ``read_results`` checks them against the election's candidates."""

    observer: int
    station: str | None
    values: tuple[str, ...]
    form_code: str = "R"
    comment: str = ""


RESULTS_MAX = 9_999_999  # per number: more than any station's count (7 digits)


@dataclass(frozen=True)
class Results:
    """The numbers of a results message, read: ballots in boxes, votes per candidate (by name,
    in ballot order) and the stated total of valid votes."""

    ballots: int
    votes: dict[str, int]
    total: int

    @property
    def invalid(self) -> int | None:
        """Ballots in boxes minus valid votes; None when that would be negative (flagged)."""
        return self.ballots - self.total if self.ballots >= self.total else None

    def numbers(self) -> dict[str, int]:
        """The protocol lines of the copy: valid, and invalid when the two are consistent."""
        out = {"valid": self.total}
        if self.invalid is not None:
            out["invalid"] = self.invalid
        return out


def read_results(p: ParsedResults, candidates: list[str]) -> Results | SmsProblem:
    """Read ``p``'s numbers for an election whose candidates, in ballot order, are
    ``candidates`` (names); the problem names the field that is wrong. Pure, never raises."""
    k = len(candidates)
    if len(p.values) != k + 2:
        return SmsProblem(
            "results_count", {"expected": k + 2, "k": k, "n": len(p.values)}, p.observer
        )
    out: list[int] = []
    for i, raw in enumerate(p.values):
        value = raw.translate(_LOOKALIKE)
        if not value.isdigit() or not value.isascii():
            return _field_problem("results_not_number", i, candidates, p, value=raw[:12])
        if len(value) > 7 or int(value) > RESULTS_MAX:
            return _field_problem(
                "results_too_big", i, candidates, p, value=value[:12], max=RESULTS_MAX
            )
        out.append(int(value))
    return Results(out[0], dict(zip(candidates, out[1:-1], strict=True)), out[-1])


@dataclass(frozen=True)
class FieldName:
    """A results field named in the reader's language (``SmsProblem`` params are formatted
    with ``str()``, so the field is worded when the reply is)."""

    i: int
    candidates: tuple[str, ...]
    lang: str = "en"

    def __format__(self, spec: str) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.i == 0:
            return message("field_ballots", self.lang)
        if self.i == len(self.candidates) + 1:
            return message("field_total", self.lang)
        return message("field_candidate", self.lang, i=self.i, name=self.candidates[self.i - 1])


def _field_problem(key: str, i: int, candidates: list[str], p: ParsedResults, **params):
    return SmsProblem(key, {"field": FieldName(i, tuple(candidates)), **params}, p.observer)


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
    return ", ".join(sorted([f.code for f in forms().values()] + ["IN", "R"]))


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


def parse_sms(text: str) -> ParsedSms | ParsedResults | SmsProblem:
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
    if words[0][0] == "R" and all(ch in _NUMCHARS for ch in words[0][1:]):
        return _results(words, station, comment)
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


def _results(words: list[str], station: str | None, comment: str) -> ParsedResults | SmsProblem:
    """``R<observer>`` or ``R <observer>``, then the numbers (read by ``read_results``)."""
    first = words[0][1:] or (words[1] if len(words) > 1 else "")
    after = words[1:] if words[0][1:] else words[2:]
    digits = first.translate(_LOOKALIKE)
    if not digits or not digits.isdigit():
        return SmsProblem("no_observer", {"code": "R"})
    if len(digits) > 12:
        return SmsProblem("unknown_observer", {"observer": digits[:12] + "…"})
    return ParsedResults(int(digits), station, tuple(after), comment=comment.strip()[:1000])


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
