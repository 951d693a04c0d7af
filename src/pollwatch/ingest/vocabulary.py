"""What a column header means: a protocol line, an identifier, or possibly a candidate.

Why this exists: a results file read with ``rest = true`` ("every other column is a
candidate") once turned *ballots received* into the leader with 152 % of the vote, because
the preset's substrings missed that year's wording and nothing else knew that "Число
избирательных бюллетеней, полученных ..." is a protocol line, not a party. This module is
that knowledge, in one place: keyword stems for the protocol lines of a polling-station
result in Russian, Ukrainian, Belarusian, English, Azerbaijani (Latin), Spanish and French,
plus the words of identifier and text columns (region, district, station, level, url, name).

* :func:`classify_column` gives a model field name (:mod:`pollwatch.model.fields`),
  ``"protocol"`` for a protocol line that is no model field (lost certificates, turnout,
  blank votes ...), ``"id"`` or ``"text"`` for identifier / name / level / url headers, or
  ``None``: nothing known, so the column may hold a candidate's or an option's votes.
* :func:`is_protocol_line` is true for the first two kinds: such a column is never a candidate.
* :func:`header_role` says which identifier a header is (``level``, ``contest``, ``url`` ...),
  and :func:`is_station_level` / :func:`is_evoting_label` read the *values* of such columns.

Matching is on stems of the casefolded header (``ё`` read as ``е``, quotes and repeated
spaces removed), so that singular/plural and the wording changes between years
("включенных"/"внесенных", "в помещении"/"в помещениях", "на момент окончания голосования")
still mean the same line. Stems that would also match the adjective "electoral"
("избирательн", "electoral") are guarded, so "Территориальная избирательная комиссия" is an
identifier, not a count of voters.
"""

from __future__ import annotations

import re
from functools import lru_cache

# -- stems -------------------------------------------------------------------------------------
# Each group is a regex alternation matched anywhere in the normalised header.
BALLOT = (
    r"бюллетен",
    r"бюлетен",
    r"бюлетэн",
    r"ballot",
    r"bülleten",
    r"bulleten",
    r"boleta",
    r"papeleta",
    r"bulletin",
    r"voting paper",
)
VOTER = (
    r"избирател(?!ьн)",
    r"виборц",
    r"выбаршчык",
    r"voters?\b",
    r"seçici",
    r"secici",
    r"elector(?!al)",
    r"électeur",
    r"electeur",
    r"участник\w* голосования",
    r"учасник\w* голосування",
    r"votant",
    r"inscrit",
)
CERT = (
    r"удостоверен",
    r"посвідчен",
    r"пасведчан",
    r"certificate",
    r"vəsiqə",
    r"vesiqe",
    r"certificado",
    r"certificat",
    r"attestation",
    r"открепит",
)
RECEIVED = (
    r"получен",
    r"отриман",
    r"атрыман",
    r"received",
    r"alınmış",
    r"alinmis",
    r"alınan",
    r"recibid",
    r"reçu",
)
ISSUED = (
    r"выдан",
    r"видан",
    r"выдадзен",
    r"issued",
    r"verilmiş",
    r"verilmis",
    r"verilən",
    r"entregad",
    r"expedid",
    r"délivr",
    r"remis",
)
EARLY = (
    r"досрочн",
    r"дострок",
    r"датэрмінов",
    r"early",
    r"vaxtından əvvəl",
    r"anticipad",
    r"anticipé",
    r"advance",
)
OUTSIDE = (
    r"вне помещени",
    r"поза приміщен",
    r"па-за памяшкан",
    r"outside",
    r"mobile",
    r"səyyar",
    r"seyyar",
    r"móvil",
    r"movil",
    r"domicil",
    r"на дому",
)
INSIDE = (
    r"в помещени",
    r"у приміщен",
    r"у памяшкан",
    r"inside",
    r"in (?:the )?station",
    r"in (?:the )?premises",
    r"məntəqədə",
    r"en (?:la )?mesa",
    r"au bureau",
)
BOX = (r"ящик", r"скриньк", r"скрын", r"\bbox", r"qutu", r"\burna", r"\burne")
PORTABLE = (
    r"переносн",
    r"пераносн",
    r"portable",
    r"mobile",
    r"səyyar",
    r"seyyar",
    r"móvil",
    r"movil",
)
STATIONARY = (
    r"стационарн",
    r"стаціонарн",
    r"стацыянарн",
    r"stationary",
    r"stasionar",
    r"\bfij",
    r"fixe",
)
CANCEL = (r"погашен", r"cancel", r"ləğv", r"legv", r"anulad", r"inutiliz", r"annul")
LOST = (r"утрачен", r"втрачен", r"страчан", r"\blost\b", r"itiril", r"extravi", r"perdid", r"perdu")
UNACCOUNTED = (
    r"не ?учтен",
    r"не ?врахован",
    r"не ?улічан",
    r"unaccounted",
    r"not accounted",
    r"uçota alınmam",
)
SPOILT = (r"испорчен", r"зіпсован", r"сапсаван", r"spoil", r"korlan", r"deteriorad", r"détérior")
INVALID = (
    r"недействительн",
    r"недійсн",
    r"несапраўдн",
    r"invalid",
    r"etibarsız",
    r"etibarsiz",
    r"\bnul(?:o|a|s|os|as)?\b",
    r"inválid",
    r"rejected",
)
VALID = (
    r"действительн",
    r"дійсн",
    r"сапраўдн",
    r"\bvalid",
    r"etibarlı",
    r"etibarli",
    r"válid",
    r"exprimé",
    r"valable",
)
VOTED = (
    r"проголосовав",
    r"проголосува",
    r"прагаласава",
    r"\bvoted\b",
    r"səs verən",
    r"votaron",
    r"ont voté",
)
LISTED = (
    r"спис",
    r"спіс",
    r"уключан",
    r"\blist",
    r"siyahı",
    r"siyahi",
    r"\blista",
    r"\bliste",
    r"включен",
    r"внесен",
    r"реєстр",
    r"registered",
    r"зарегистр",
    r"зарэгістр",
    r"зареєстр",
    r"inscrit",
    r"\bcenso",
    r"padr[oó]n",
)
REGISTERED_ALONE = (
    r"^registered",
    r"^inscrits?$",
    r"^electores$",
    r"^censo",
    r"^électeurs inscrits",
    r"^registered voters$",
    r"^eligible voters$",
)
ADDITIONAL = (
    r"дополнительн",
    r"додатков",
    r"дадатков",
    r"additional",
    r"supplementary",
    r"əlavə",
    r"elave",
)
MAIN_LIST = (r"основн", r"main list", r"əsas", r"esas")
REQUESTS = (r"заявлен", r"заяв", r"request", r"müraciət", r"muraciet", r"solicitud", r"demande")
HIGHER = (
    r"\bтик\b",
    r"территориальн",
    r"територіальн",
    r"тэрытарыяльн",
    r"higher",
    r"dairə",
    r"daire",
)
TAKEN = (r"\btaken\b", r"\btook\b", r"забрал", r"взял", r"götürmüş")
# protocol lines that are no model field: a count about the vote, not for somebody
OTHER_PROTOCOL = (
    r"явк",
    r"turnout",
    r"participación",
    r"participation",
    r"iştirak",
    r"процент",
    r"відсот",
    r"працэнт",
    r"percent",
    r"porcentaje",
    r"pourcentage",
    r"%",
    r"\bblank",
    r"\bblanc",
    r"\bblanco",
    r"пуст",
    r"abstention",
    r"abstenci",
    r"votantes",
    r"votants",
    r"^total",
    r"\btotal votes",
    r"^итого",
    r"^всего",
    r"^усього",
    r"^разом",
    r"^cəmi",
    r"^cemi",
    r"^число ",
    r"^количество",
    r"^кількість",
    r"^колькасць",
    r"^number of",
    r"^no\. of",
    r"\bsayı",
    r"\bsayi\b",
    r"^número de",
    r"^numero de",
    r"^nombre d(?:e|')",
    r"голосов всего",
    r"votes cast",
    r"ballots cast",
    r"votos emitidos",
)

# Candidate/option cues: a header with one of these is never an identifier or protocol line.
OPTION = (r"^(?:да|нет|так|ні|не|yes|no|sí|si|oui|non|bəli|xeyr|za|против всех|against all)$",)

# -- identifier and text headers ---------------------------------------------------------------
# A header is an identifier/text column when its first word is one of these words, or when every
# word of it is (so "Carlos Mesa" stays a possible candidate while "mesa" does not). Words of five
# letters or fewer must match whole ("Городецкий" is a surname, not a "город"); longer ones are stems.
TEXT_WORDS = (
    "url",
    "link",
    "href",
    "ссылка",
    "посилан",
    "name",
    "название",
    "наименован",
    "назва",
    "адрес",
    "address",
    "comment",
    "примечан",
    "note",
    "date",
    "дата",
    "level",
    "уровень",
    "рівень",
    "узровень",
    "type",
    "тип",
    "kind",
    "label",
)
ID_WORDS = (
    "id",
    "код",
    "code",
    "código",
    "codigo",
    "cod",
    "номер",
    "number",
    "num",
    "nr",
    "№",
    "#",
    "uik",
    "уик",
    "tik",
    "тик",
    "oik",
    "оик",
    "iks",
    "икс",
    "ик",
    "region",
    "регион",
    "субъект",
    "oblast",
    "област",
    "район",
    "raion",
    "rayon",
    "округ",
    "окружн",
    "district",
    "constituency",
    "precinct",
    "station",
    "polling",
    "участок",
    "участков",
    "дільниц",
    "дільнич",
    "conec",
    "pec",
    "dairə",
    "daire",
    "dairəsi",
    "məntəqə",
    "menteqe",
    "circunscrip",
    "mesa",
    "colegio",
    "secci",
    "sección",
    "municip",
    "provinci",
    "departament",
    "commune",
    "bureau",
    "départ",
    "canton",
    "территориальн",
    "избирательн",
    "комисси",
    "комісі",
    "камісі",
    "виборч",
    "выбарч",
    "ward",
    "county",
    "state",
    "parish",
    "tvd",
    "vrn",
    "contest",
    "election",
    "выборы",
    "вибори",
    "выбары",
    "seçki",
    "secki",
    "elección",
    "eleccion",
    "élection",
    "scrutin",
    "race",
    "settlement",
    "город",
    "city",
    "місто",
    "населенн",
    "locality",
    "country",
    "страна",
    "lat",
    "lon",
    "latitude",
    "longitude",
    "uid",
    "key",
    *TEXT_WORDS,  # every text column's header is also an identifier's
)
CONNECTORS = ("the", "of", "de", "la", "du", "и", "і", "del", "des", "and")
#: a header with one of these names a party or candidate: protocol stems inside it do not count
PARTY = (
    r"парти",
    r"\bparty",
    r"partido",
    r"\bparti\b",
    r"partiya",
    r"блок",
    r"\bbloc",
    r"союз\b",
    r"движени",
    r"movement",
    r"кандидат",
    r"candidat",
    r"namizəd",
)
PROTOCOL_OPENER = (
    r"^(?:\d+\s*[.)]?\s*)?(?:число|количество|кількість|колькасць|number of|total|sayı|número de)",
)

#: header_role: which identifier a header names (first matching role wins)
ROLES = (
    ("url", (r"\burl\b", r"\blink\b", r"href", r"ссылка", r"посилан", r"^https?:")),
    (
        "level",
        (r"\blevel\b", r"уровень", r"рівень", r"узровень", r"\btype of commission", r"тип комисс"),
    ),
    (
        "contest",
        (
            r"\bcontest\b",
            r"\belection\b",
            r"^выборы",
            r"^вибори",
            r"^выбары",
            r"^seçki$",
            r"elección",
            r"élection",
            r"scrutin",
            r"\brace\b",
        ),
    ),
    (
        "station",
        (
            r"^uik",
            r"^уик",
            r"precinct",
            r"station",
            r"^pec\b",
            r"участ",
            r"дільниц",
            r"məntəqə",
            r"^mesa",
        ),
    ),
    (
        "district",
        (
            r"^oik",
            r"^оик",
            r"округ",
            r"district",
            r"constituency",
            r"conec",
            r"circunscrip",
            r"dairə",
        ),
    ),
    ("commission", (r"^tik", r"^тик", r"территориальн", r"commission", r"комисси")),
    ("region", (r"^region", r"регион", r"субъект", r"oblast", r"област", r"provinci", r"départ")),
    ("name", (r"\bname\b", r"название", r"наименован", r"назва")),
)

#: values of a level column that name the polling-station level
STATION_LEVEL = (
    r"^уик",
    r"\bуик\b",
    r"участков",
    r"^уизк",
    r"дільнич",
    r"участк",
    r"\bstation",
    r"precinct",
    r"polling",
    r"^pec\b",
    r"\bpec\b",
    r"məntəqə",
    r"menteqe",
    r"\bmesa",
    r"\bbureau",
)
#: labels (in any id/text column) of remote electronic-voting pseudo-stations
EVOTING = (
    r"дистанционн\w* электронн",
    r"\bдэг\b",
    r"электронн\w* голосован",
    r"electronic voting",
    r"e-voting",
    r"\bevoting\b",
    r"internet voting",
    r"i-voting",
    r"online voting",
    r"електронн\w* голосуван",
    r"дыстанцыйн",
)


def normalise(name: str) -> str:
    """Casefold, ``ё``→``е``, drop quotes, collapse whitespace: the form every stem is matched on."""
    s = name.casefold().replace("ё", "е").replace('"', " ").replace("«", " ").replace("»", " ")
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=64)
def _rx(stems: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{s})" for s in stems))


def _has(text: str, *groups: tuple[str, ...]) -> bool:
    return all(_rx(g).search(text) for g in groups)


# (field or "protocol", groups that must all match, groups none of which may match); first wins
_RULES: tuple[tuple[str, tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]], ...] = (
    # absentee certificates before ballots and voters: their lines mention both
    ("protocol", (CERT, UNACCOUNTED), ()),
    ("absentee_voted", (CERT, VOTED), ()),
    ("absentee_issued_higher", (CERT, ISSUED, HIGHER), ()),
    ("absentee_lost", (CERT, LOST), ()),
    ("absentee_cancelled", (CERT, CANCEL), ()),
    ("absentee_cancelled", (CERT, (r"неиспользован", r"невикористан", r"unused")), ()),
    ("absentee_taken", (CERT, TAKEN), ()),
    ("absentee_issued", (CERT, ISSUED), ()),
    ("absentee_received", (CERT, RECEIVED), ()),
    ("protocol", (CERT,), ()),
    # ballots
    ("ballots_lost", (BALLOT, LOST), ()),
    ("ballots_unaccounted", (BALLOT, UNACCOUNTED), ()),
    ("ballots_cancelled", (BALLOT, CANCEL), ()),
    ("ballots_spoilt", (BALLOT, SPOILT), ()),
    ("invalid", (INVALID,), ()),
    ("valid", (VALID,), ()),
    ("ballots_mobile_box", (BOX, PORTABLE), ()),
    ("ballots_stationary_box", (BOX, STATIONARY), ()),
    (
        "ballots_issued_station",
        (ISSUED, INSIDE),
        (),
    ),  # "in the station, early voters included" is in-station
    ("ballots_issued_early", (ISSUED, EARLY), ()),
    ("ballots_issued_mobile", (ISSUED, OUTSIDE), ()),
    ("ballots_received", (BALLOT, RECEIVED), ()),
    ("mobile_requests", (REQUESTS, OUTSIDE), ()),
    ("protocol", (BALLOT,), ()),
    # voters
    ("protocol", (VOTER, VOTED), ()),
    ("additional_list", (ADDITIONAL, LISTED), ()),
    ("registered_main", (VOTER, MAIN_LIST, LISTED), ()),
    ("registered", (VOTER, LISTED), ()),
    ("registered", (REGISTERED_ALONE,), ()),
    ("protocol", (VOTER,), ()),
    ("protocol", (OTHER_PROTOCOL,), ()),
)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w№#]+|_", text) if w]


def _idish(word: str, vocab: tuple[str, ...]) -> bool:
    return any(word == v or (len(v) > 5 and word.startswith(v)) for v in vocab)


@lru_cache(maxsize=4096)
def classify_column(name: str) -> str | None:
    """What a header means: a model field name, ``"protocol"``, ``"id"``, ``"text"`` or ``None``.

    ``None`` means "not a protocol line nor an identifier we know": the column may hold a
    candidate's or an option's votes. Dotted protocol line numbers (``100.2.8``) are
    ``"protocol"``; ``Да``/``Нет``/``Yes``/``No``/"против всех" are ``None`` (options).
    """
    text = normalise(name)
    if not text:
        return "text"
    if _rx(OPTION).search(text):
        return None
    if re.fullmatch(r"\d+(?:\.\d+)+[a-zа-я]?", text):  # "100.2.8": a protocol line number
        return "protocol"
    if not _has(text, PARTY) or _has(text, PROTOCOL_OPENER):  # "6. Party of voters": a ballot entry
        for field, must, must_not in _RULES:
            if _has(text, *must) and not any(_rx(g).search(text) for g in must_not):
                return field
    words = _words(text)
    if words and (
        _idish(words[0], ID_WORDS)
        or all(w.isdigit() or _idish(w, ID_WORDS) or w in CONNECTORS for w in words)
    ):
        return "text" if _idish(words[0], TEXT_WORDS) or header_role(name) == "url" else "id"
    return None


def is_protocol_line(name: str) -> bool:
    """True if ``name`` is a protocol line (a model field or another count about the vote)."""
    c = classify_column(name)
    return c is not None and c not in ("id", "text")


@lru_cache(maxsize=4096)
def header_role(name: str) -> str | None:
    """Which identifier a header names: ``url``, ``level``, ``contest``, ``station``,
    ``district``, ``commission``, ``region``, ``name``; ``None`` if none of them."""
    text = normalise(name)
    for role, stems in ROLES:
        if _rx(stems).search(text):
            return role
    return None


def is_station_level(value: str) -> bool:
    """True if a value of a level column names the polling-station level (УИК, precinct ...)."""
    return bool(_rx(STATION_LEVEL).search(normalise(value)))


def is_evoting_label(value: str) -> bool:
    """True if a label (commission, level, station name) names remote electronic voting."""
    return bool(_rx(EVOTING).search(normalise(value)))


__all__ = [
    "classify_column",
    "header_role",
    "is_evoting_label",
    "is_protocol_line",
    "is_station_level",
    "normalise",
]
