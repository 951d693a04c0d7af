"""Issue 22: the fusion roll-up ("Sources side by side"), the report's dossier and roll-up
sections and the demo's own sections in Russian carry no English, and the English is what it was.

Two detectors on the rendered text (tags stripped, the data taken out: candidate names,
constituency and region names, station ids, observers' own descriptions, hashes): runs of three
or more Latin words (allowing "AUC", "PVT", "SHA-256", "Fisher"), and each catalogue message of
the converted modules whose longest literal piece is seen in the English render must be absent
from the Russian one."""

from __future__ import annotations

import html
import math
import re
import string

import pytest
from typer.testing import CliRunner

from pollwatch.cameras.data import EVENT_KINDS, STATUSES
from pollwatch.cli import app
from pollwatch.fusion import fused_scores, rollup, station_dossier
from pollwatch.fusion.dossier import _code_words
from pollwatch.fusion.evidence import FRAUD_CATEGORIES
from pollwatch.fusion.score import SEVERITY_POINTS
from pollwatch.i18n import tooling, use_language
from pollwatch.report.fusion import dossier_section, rollup_section
from pollwatch.results import fmt_int

from ..fusion._world import simulated_sources  # noqa: TID252

#: the modules this test covers (catalogue locations)
CONVERTED = ("fusion/rollup.py", "fusion/dossier.py", "report/fusion.py", "demo.py")
#: codes a dossier writes inside its sentences (observer reports, camera log)
CODES = (*sorted(FRAUD_CATEGORIES), *SEVERITY_POINTS, "no", *STATUSES, *EVENT_KINDS)
#: Latin words a Russian page may keep: method and test names, codes
ALLOWED_WORDS = {"AUC", "PVT", "SHA", "Fisher", "n", "p", "P", "pollwatch"}
NUMBER = r"-?\d+(?:[.,]\d+)*(?:e-?\d+)?"
TRUTH_TOTALS = {"ballots added (stuffing)": 1234.0, "fraudulent votes for the leader": 987.0}


@pytest.fixture(scope="module")
def world() -> dict:
    w = simulated_sources(["fingerprint", "shpilkin", "mixture", "integer_percentages"])
    w["fused"] = fused_scores(
        w["e"],
        analysis=w["analysis"],
        pvt=w["pvt"],
        copies=w["copies"],
        cameras=w["cams"],
        observer_reports=w["reports"],
    )
    return w


def _render(world: dict, lang: str) -> dict:
    """The roll-up and its summary, and both report sections, built and shown in ``lang``."""
    with use_language(lang):
        r = rollup(
            world["fused"],
            analysis=world["analysis"],
            pvt=world["pvt"],
            cameras=world["cams"],
            election=world["e"],
            truth=world["y"],
            truth_totals=TRUTH_TOTALS,
        )
        top = world["fused"].top(4)
        dossiers = [
            station_dossier(
                s,
                election=world["e"],
                analysis=world["analysis"],
                pvt=world["pvt"],
                copies=world["copies"],
                cameras=world["cams"],
                camera_status=world["status"],
                observer_reports=world["reports"],
            )
            for s in top["station_id"]
        ]
        sections = [rollup_section(r), dossier_section(dossiers, top["rank"].to_list())]
        page = "".join(f"<h2>{s.title}</h2><p>{s.intro}</p>{s.html}" for s in sections)
        return {"rollup": r, "summary": r.summary(), "text": _text(page), "html": page}


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _data(world: dict) -> list[str]:
    return _data_of(world["e"], [r["description"] for r in world["reports"]])


def _data_of(e, descriptions) -> list[str]:
    """Texts that are data, not the program's words (candidate and place names, station ids,
    observers' descriptions), longest first so that a name is taken out whole."""
    out = {c.name for c in e.candidates} | {str(d) for d in descriptions if d}
    for level in e.meta.hierarchy:
        out |= {str(v) for v in e.level(level)}
    out |= {str(s) for s in e.station_ids}
    return sorted((s for s in out if s), key=len, reverse=True)


def latin_runs(text: str, data: list[str]) -> list[str]:
    """Runs of three or more Latin words (numbers between them do not break a run) left once
    the data and the allowed words are out."""
    for d in data:
        text = text.replace(d, " ")
    words = re.sub(r"[^\w'-]+", " ", text).split()
    runs, run = [], []
    for w in [*words, "|"]:
        if re.fullmatch(r"[A-Za-z][A-Za-z'-]*", w) and w not in ALLOWED_WORDS:
            run.append(w)
            continue
        if re.fullmatch(r"[\d_.,-]+", w):  # a number inside an English sentence does not end it
            continue
        if len(run) >= 3:
            runs.append(" ".join(run))
        run = []
    return runs


def _pieces(least: int = 6) -> dict[str, str]:
    """msgid -> its longest literal piece, for the converted modules' messages."""
    out = {}
    for m in tooling.read("ru"):
        if not (isinstance(m.id, str) and m.id and m.string):
            continue
        if not any(f in CONVERTED for f, _ in m.locations):
            continue
        literals = [lit for lit, _, _, _ in string.Formatter().parse(m.id)]
        piece = max((" ".join(lit.split()) for lit in literals), key=len).strip(" :;,.()[]")
        if len(piece) >= least and piece not in ALLOWED_WORDS:
            out[m.id] = piece
    return out


def test_latin_run_detector_sees_english():
    data = ["Candidate A (incumbent)"]
    assert latin_runs("Участок 12: Candidate A (incumbent) 1,234; AUC 0.9", data) == []
    assert latin_runs("отметки: камеры 12 of 148 covered stations", data) == ["of covered stations"]


def test_rollup_and_sections_in_russian(world):
    en, ru = _render(world, "en"), _render(world, "ru")
    data = _data(world)
    assert latin_runs(ru["text"], data) == []
    # no text node or title that is a catalogue message left in English
    assert tooling.leftover_english(ru["html"], "ru") == []
    assert latin_runs(en["text"], data)  # the detector sees the English when it is there
    seen = {m: p for m, p in _pieces().items() if p in en["text"]}
    assert len(seen) >= 30, sorted(seen.values())  # the check reaches most of the messages
    left = {m: p for m, p in seen.items() if p in ru["text"]}
    assert not left, left
    # the codes inside the dossiers' sentences (two-word ones escape the run detector)
    bare = ru["text"]
    for d in data:
        bare = bare.replace(d, " ")
    words = {c: c.replace("_", " ") for c in CODES}
    seen_codes = [w for w in words.values() if re.search(rf"\b{w}\b", en["text"])]
    assert len(seen_codes) >= 3, seen_codes
    assert [w for w in words.values() if re.search(rf"\b{w}\b", bare)] == []
    s = ru["summary"]
    assert s.title == "Источники рядом"
    # every row label translated, the numbers as in English
    assert all(not re.search(r"[A-Za-z]{4,}", k.replace("AUC", "")) for k, _ in s.rows)
    for (_, v_ru), (_, v_en) in zip(s.rows, en["summary"].rows, strict=True):
        assert sorted(re.findall(NUMBER, v_ru)) == sorted(re.findall(NUMBER, v_en)), (v_ru, v_en)
    # the result's data stay English keys and sentences (results are read by scripts)
    assert ru["rollup"].to_dict() == en["rollup"].to_dict()


def test_azerbaijani_summary_translated(world):
    """Azerbaijani is written in Latin letters: the message pieces show what is left."""
    en, az = _render(world, "en"), _render(world, "az")
    assert az["summary"].title == "Mənbələr yan-yana"
    seen = {m: p for m, p in _pieces().items() if p in en["text"]}
    left = {m: p for m, p in seen.items() if p in az["text"]}
    assert len(seen) >= 30 and not left, left
    assert tooling.leftover_english(az["html"], "az") == []


def test_code_words_english_is_the_code():
    """The dossier's English sentences name each code as before: its underscores as spaces."""
    with use_language("en"):
        assert [_code_words(c) for c in CODES] == [c.replace("_", " ") for c in CODES]
    with use_language("ru"):
        assert _code_words("turned_away") == "отвёрнута" and _code_words("new_code") == "new code"


def test_english_summary_unchanged(world):
    """The English summary is byte for byte what the f-strings wrote before issue 22."""
    r = _render(world, "en")["rollup"]
    assert r.summary().title == "Sources side by side"
    assert (r.summary().text, list(r.summary().rows), list(r.summary().notes)) == _old_summary(r)
    cams = world["cams"]
    scopes = {(e["source"], e["quantity"]): e["scope"] for e in r.estimates}
    assert scopes[("cameras", "ballots added, lower bound")] == (
        f"{cams.n_compared:,} watched stations only (not a random sample); "
        "a conservative lower bound"
    )
    assert scopes[("protocol copies", "leader votes added between station and centre")] == (
        f"{world['pvt'].protocols.stations_compared:,} copied protocols (exact there; not "
        "extrapolated)"
    )


def test_demo_lang_option_rejects_unknown_language(tmp_path):
    r = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--lang", "de"])
    assert r.exit_code == 2 and "is not one of en, az, ru" in r.output, r.output
    assert not any(tmp_path.iterdir())  # refused before anything was simulated


@pytest.mark.slow
def test_demo_report_in_russian(tmp_path, capsys):
    """``run_demo(lang="ru")``: the demo's sections and its fusion sections in Russian, and
    the CLI's summary lines; the exports and the signed bundle's dossiers stay English."""
    import json

    from pollwatch.cli._common import console
    from pollwatch.cli.demo import _print_summary
    from pollwatch.demo import run_demo

    res = run_demo(tmp_path, seed=7, lang="ru", n_dossiers=4)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.S))
    for key, title in (
        ("pvt", "Параллельный подсчёт (копии протоколов наблюдателей)"),
        ("cameras", "Видеонаблюдение"),
        ("claims", "Опубликованные заявления (реальные выборы 2024 года)"),
        ("sources", "Источники рядом"),
        ("dossiers", "Досье участков"),
    ):
        assert title in _text(sections[key]), key
    data = _data_of(
        res.analysis.election, [r.get("description") for r in res.sources["observer_reports"]]
    )
    assert latin_runs(_text(sections["sources"]), data) == []
    assert latin_runs(_text(sections["dossiers"]), data) == []
    assert tooling.leftover_english(sections["sources"] + sections["dossiers"], "ru") == []
    for key in ("pvt", "cameras", "claims"):  # the demo's own intros (not the methods' summaries)
        intro = re.search(r"</h2>\s*<p>(.*?)</p>", sections[key], re.S)
        assert intro and latin_runs(_text(intro.group(1)), data) == [], key
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert doc["errors"] == {}
    # what the bundle signed and the service shows was built in English
    assert all(not re.search("[а-яА-Я]", d.text) for d in res.sources["dossiers"])
    assert res.sources["rollup"].estimates[0]["scope"].isascii()
    # the operator's summary in the terminal, in the same language
    with console.capture() as cap, use_language("ru"):
        _print_summary(res, tmp_path, quiet=False)
    printed = cap.get()
    found, _, outputs = printed.partition("Результаты:")  # then the files: names and paths
    assert "Сила доказательств" in found and "пакет доказательств" in outputs
    assert latin_runs(found, data) == [], found
    assert "Откройте отчёт" in capsys.readouterr().out
    # the whole report (every forensic method, the quick count, cameras, claims, census-free
    # data quality, the headline): no English sentence left but the data the user brought
    # (the shipped claims file's sources and notes are data as a user's own file would be)
    own = [*data, *_claims_texts(), res.analysis.election.meta.name, str(tmp_path)]
    assert tooling.english_runs(page, allow=own) == []
    assert tooling.leftover_english(page, "ru") == []


def _claims_texts() -> list[str]:
    """Every text of the example claims file the demo checks (sources, speakers, notes)."""
    from dataclasses import fields

    from pollwatch.claims import example_claims

    out: set[str] = set()
    for c in example_claims("azerbaijan_2024"):
        out |= {v for f in fields(c) if isinstance(v := getattr(c, f.name), str) and v}
    return sorted(out, key=len, reverse=True)


def _old_summary(r) -> tuple[str, list, list]:
    """The roll-up summary as ``Rollup.summary`` wrote it before issue 22 (English f-strings)."""

    def p(x):
        return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f} %"

    def g(x):
        return "n/a" if x is None or math.isnan(x) else f"{x:.2g}"

    def nan0(x):
        return -1.0 if x is None or math.isnan(x) else x

    rows = [
        (f"{k} flags", f"{v['flagged']:,} of {v['covered']:,} covered stations")
        for k, v in r.flags.items()
    ]
    rows += [(f"both {k}", f"{v:,}") for k, v in r.overlaps.items() if v]
    for k, c in r.conditional.items():
        rows.append(
            (
                f"P({k} flag | forensic flag)",
                f"{p(c['p_if_forensic'])} (n={c['n_forensic']:,}) vs {p(c['p_if_not'])} without "
                f"(n={c['n_not']:,}); Fisher p = {g(c['p_value'])}",
            )
        )
    for e in r.estimates:
        iv = "" if e["low"] is None else f" [{fmt_int(e['low'])}, {fmt_int(e['high'])}]"
        rows.append(
            (f"{e['source']}: {e['quantity']}", f"{fmt_int(e['estimate'])}{iv} — {e['scope']}")
        )
    for k, v in r.aucs.items():
        cov = r.aucs_covered.get(k)
        rows.append(
            (
                f"AUC {k}",
                f"{v:.3f}"
                + (
                    f" (covered stations: {cov:.3f})"
                    if cov is not None and k != "fusion" and not math.isnan(cov)
                    else ""
                ),
            )
        )
    bits = [
        f"{k} flag {p(c['p_if_forensic'])} of the stations forensics flags and "
        f"{p(c['p_if_not'])} of the others"
        for k, c in r.conditional.items()
        if c["n_forensic"] and c["n_not"]
    ]
    agreement = ("Where they overlap, " + "; ".join(bits) + ".") if bits else ""
    text = (
        f"{r.n_multi:,} of {r.n_stations:,} stations are flagged by two or more sources. "
        + agreement
    )
    if r.aucs:
        best = max((k for k in r.aucs if k != "fusion"), key=lambda k: nan0(r.aucs[k]))
        text += (
            f" Against the known truth ({r.truth_label}), the fused score ranks the stations with AUC "
            f"{r.aucs['fusion']:.3f}, the best single source ({best}) {r.aucs[best]:.3f}."
        )
    return text, rows, list(r.notes)
