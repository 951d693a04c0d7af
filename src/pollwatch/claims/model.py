"""A claim: a figure a named source published about one quantity of an election."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from pollwatch.errors import DataIssue, InputDataError
from pollwatch.i18n import gettext

#: Quantities with a meaning in the checks; ``candidate_share:<name>`` and ``candidate_votes:<name>``
#: take a candidate name. Other quantity names are allowed and compared only with each other.
QUANTITIES = (
    "winner_share",
    "candidate_share:",
    "turnout",
    "stations",
    "registered",
    "ballots_cast",
    "valid_votes",
    "invalid_votes",
    "candidate_votes:",
    "ballots_printed",
)
STAGES = ("final", "preliminary", "partial")
KINDS = ("official", "media", "exit_poll", "observer", "computed")

__all__ = ["Claim", "example_claims", "load_claims", "parse_value"]


def parse_value(text: str | float | int) -> tuple[float, int]:
    """A published number and its stated decimals: ``"92.12 %"`` → (92.12, 2), ``"6,537"`` → (6537, 0)."""
    if isinstance(text, bool):
        raise ValueError(f"value ({text!r}) must be a number")
    if isinstance(text, int):
        return float(text), 0
    s = str(text).strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    s = (
        s.replace(",", "")
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s)
        else s.replace(",", ".")
    )
    if not re.fullmatch(r"-?\d+(\.\d+)?", s):
        raise ValueError(f"value ({text!r}) is not a number")
    return float(s), len(s.split(".")[1]) if "." in s else 0


@dataclass(frozen=True)
class Claim:
    """One published figure.

    ``value`` is in ``unit`` (``"%"`` for shares and turnout, ``"count"`` otherwise); ``decimals``
    is the precision as published (inferred from the text when loaded), which sets the rounding
    tolerance ``0.5·10^−decimals``. ``stage``: ``final``, ``preliminary`` (election night) or
    ``partial`` (a count of some stations); figures of different stages are not contradictions.
    ``kind``: ``official``, ``media``, ``exit_poll``, ``observer`` or ``computed``. Exit polls may
    carry ``sample_size`` (interviews) and ``stations``.
    """

    source: str
    speaker: str
    quantity: str
    value: float
    unit: str = "%"
    date: str = ""
    url: str = ""
    note: str = ""
    stage: str = "final"
    kind: str = "official"
    decimals: int | None = None
    sample_size: int | None = None
    stations: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in ("%", "count"):
            raise ValueError(f"unit ({self.unit!r}) not recognised; must be '%' or 'count'")
        if self.stage not in STAGES:
            raise ValueError(
                f"stage ({self.stage!r}) not recognised; must be one of {', '.join(STAGES)}"
            )
        if self.kind not in KINDS:
            raise ValueError(
                f"kind ({self.kind!r}) not recognised; must be one of {', '.join(KINDS)}"
            )
        if math.isnan(self.value):
            raise ValueError("value (nan) must be a number")
        if self.decimals is None:
            object.__setattr__(
                self, "decimals", parse_value(repr(self.value))[1] if self.value % 1 else 0
            )

    @property
    def tolerance(self) -> float:
        """Half a unit of the last published digit."""
        return 0.5 * 10.0 ** -(self.decimals or 0)

    def shown(self) -> str:
        d = self.decimals or 0
        return f"{self.value:,.{d}f} %" if self.unit == "%" else f"{self.value:,.{d}f}"

    def label(self) -> str:
        return f"{self.shown()} ({self.source}{', ' + self.date if self.date else ''})"


_FIELDS = (
    "source",
    "speaker",
    "quantity",
    "value",
    "unit",
    "date",
    "url",
    "note",
    "stage",
    "kind",
    "sample_size",
    "stations",
)


def _claim(raw: dict, where: str, line: int | None) -> Claim:
    unknown = set(raw) - set(_FIELDS)
    missing = [k for k in ("source", "quantity", "value") if raw.get(k) in (None, "")]
    if missing:
        raise InputDataError(
            f"{where}: claim lacks {', '.join(missing)}",
            [
                DataIssue(
                    where,
                    "claim lacks a required field",
                    line=line,
                    column=missing[0],
                    expected="source, quantity and value",
                )
            ],
        )
    try:
        value, decimals = parse_value(raw["value"])
        unit = raw.get("unit") or ("%" if _is_pct(raw["quantity"]) else "count")
        return Claim(
            source=str(raw["source"]),
            speaker=str(raw.get("speaker") or ""),
            quantity=str(raw["quantity"]).strip(),
            value=value,
            unit=unit,
            date=str(raw.get("date") or ""),
            url=str(raw.get("url") or ""),
            note=str(raw.get("note") or ""),
            stage=str(raw.get("stage") or "final"),
            kind=str(raw.get("kind") or "official"),
            decimals=decimals,
            sample_size=(
                int(raw["sample_size"]) if raw.get("sample_size") not in (None, "") else None
            ),
            stations=int(raw["stations"]) if raw.get("stations") not in (None, "") else None,
            extra={k: raw[k] for k in unknown},
        )
    except ValueError as exc:
        raise InputDataError(
            f"{where}: {exc}", [DataIssue(where, str(exc), line=line, value=str(raw.get("value")))]
        ) from None


def _is_pct(quantity: str) -> bool:
    return quantity in ("winner_share", "turnout") or quantity.startswith("candidate_share:")


def load_claims(path: str | Path) -> list[Claim]:
    """Read claims from YAML (a list, or a mapping with ``claims:``) or CSV with the Claim fields.

    Write values as text (``"92.12"``) so that the published precision is kept.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: file not found", [DataIssue(str(path), "file not found")])
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [_claim(row, str(path), i + 2) for i, row in enumerate(csv.DictReader(fh))]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = doc.get("claims", []) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputDataError(
            f"{path}: expected a list of claims",
            [DataIssue(str(path), "expected a list of claims")],
        )
    return [_claim(raw, str(path), None) for raw in items]


def example_claims(name: str = "azerbaijan_2024") -> list[Claim]:
    """A shipped example dataset; ``azerbaijan_2024``: public figures on the 2024 presidential election."""
    ref = resources.files("pollwatch.claims") / "data" / f"{name}.yaml"
    if not ref.is_file():
        raise ValueError(f"name ({name!r}) not recognised; shipped: azerbaijan_2024")
    with resources.as_file(ref) as p:
        return load_claims(p)


def quantity_label(quantity: str) -> str:
    """A claim's ``quantity`` in words, in the current language (``candidate_share:Name`` →
    "share of Name"); a quantity of the user's own naming is shown as it is."""
    labels = {
        "winner_share": gettext("winner's share"),
        "turnout": gettext("turnout"),
        "stations": gettext("polling stations"),
        "registered": gettext("registered voters"),
        "ballots_cast": gettext("ballots cast"),
        "valid_votes": gettext("valid votes"),
        "invalid_votes": gettext("invalid votes"),
        "ballots_printed": gettext("ballots printed"),
    }
    kind, sep, name = quantity.partition(":")
    if sep and kind == "candidate_share":
        return gettext("share of {name}").format(name=name)
    if sep and kind == "candidate_votes":
        return gettext("votes for {name}").format(name=name)
    return labels.get(quantity, quantity)
