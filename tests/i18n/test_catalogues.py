"""The catalogues: every user-visible string extracted from src/ has a non-empty, non-fuzzy az and
ru translation with the English placeholders, and the .po files hold exactly what extraction
finds (a new untranslated string fails here). The checker is shown failing on each defect."""

from __future__ import annotations

import shutil
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.catalog import Message

from pollwatch import i18n
from pollwatch.i18n import tooling

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / "babel.cfg"


def test_every_string_translated_and_catalogues_up_to_date():
    problems = tooling.check(CFG)
    assert not problems, "run scripts/i18n.py update, then translate:\n" + "\n".join(
        problems.lines()
    )


def test_extraction_finds_every_kind_of_source():
    ids = {tooling._key(m) for m in tooling.extract(CFG) if m.id}
    assert "Log in" in ids  # a service template
    assert "Message not accepted." in ids  # Python (N_) in the SMS replies
    assert "Ballots issued to early voters" in ids  # a protocol field label
    assert "Were you given a certified copy of the protocol?" in ids  # a checklist YAML
    assert "Not asked" in ids  # a checklist option label
    assert "Station missing: you have {n} station; add #CODE." in ids  # N_plural
    assert len(ids) > 150


@pytest.fixture
def package_copy(tmp_path) -> Path:
    src = Path(i18n.__file__).resolve().parents[1]
    dst = tmp_path / "pollwatch"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.parquet"))
    return dst


def test_check_fails_on_a_new_untranslated_string(package_copy):
    (package_copy / "service" / "new_page.py").write_text(
        'from pollwatch.i18n import gettext\n\nTEXT = gettext("A sentence nobody translated")\n',
        encoding="utf-8",
    )
    problems = tooling.check(CFG, package_copy)
    assert problems
    assert problems.missing == {lang: ["A sentence nobody translated"] for lang in ("az", "ru")}
    assert not any(problems.stale.values())


@pytest.fixture
def catalogue_copy(tmp_path, monkeypatch):
    """The real catalogues copied to tmp_path, which ``tooling`` then reads."""
    for lang in tooling.TRANSLATED:
        dst = tmp_path / lang / "pollwatch.po"
        dst.parent.mkdir()
        shutil.copy(i18n.po_path(lang), dst)
    monkeypatch.setattr(tooling, "po_path", lambda lang: tmp_path / lang / "pollwatch.po")
    return tmp_path


def _edit(lang: str, msgid: str, edit) -> None:
    catalog = tooling.read(lang)
    edit(catalog[msgid])
    tooling.write(catalog, tooling.po_path(lang))


def test_check_fails_on_fuzzy_empty_and_wrong_placeholders(catalogue_copy):
    assert not tooling.check(CFG)
    _edit("ru", "Log in", lambda m: m.flags.add("fuzzy"))
    _edit("az", "Log out", lambda m: setattr(m, "string", ""))
    _edit("ru", "Unknown observer ID {observer}.", lambda m: setattr(m, "string", "ID {obs}"))
    _edit("az", "Question {tag} answered twice.", lambda m: setattr(m, "string", "iki dəfə"))
    _edit(
        "ru", "Rank %(rank)s of %(n)s, %(points)s points:", lambda m: setattr(m, "string", "%(r)s")
    )
    problems = tooling.check(CFG)
    assert problems.fuzzy == {"az": [], "ru": ["Log in"]}
    assert problems.untranslated == {"az": ["Log out"], "ru": []}
    errors = {lang: " | ".join(e) for lang, e in problems.format_errors.items()}
    assert "unknown placeholders ['obs']" in errors["ru"]
    assert "drops placeholders ['tag']" in errors["az"]
    assert "unknown named placeholder 'r'" in errors["ru"]


def test_fuzzy_translations_never_reach_a_user(tmp_path, monkeypatch):
    for lang in tooling.TRANSLATED:
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(i18n.po_path(lang), tmp_path / lang / "LC_MESSAGES" / "pollwatch.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    catalog = tooling.read("ru")
    catalog["Log in"].flags.add("fuzzy")
    tooling.write(catalog, tmp_path / "ru" / "LC_MESSAGES" / "pollwatch.po")
    i18n.translations.cache_clear()
    try:
        assert i18n.gettext("Log in", "ru") == "Log in"  # English, not the guess
        assert i18n.gettext("Log out", "ru") == "Выйти"
    finally:
        i18n.translations.cache_clear()


def test_runtime_translation_and_russian_plurals():
    assert i18n.gettext("Log in", "az") == "Daxil ol"
    assert i18n.gettext("Log in", "ru") == "Войти"
    assert i18n.gettext("Log in", "en") == "Log in"
    assert i18n.gettext("Log in", "xx") == "Log in"  # an unknown language is English
    one, many = (
        "%(num)d line differs from the official protocol",
        "%(num)d lines differ from the official protocol",
    )
    forms = {n: i18n.ngettext(one, many, n, "ru") % {"num": n} for n in (1, 2, 5, 11, 21, 22)}
    assert forms[1].startswith("1 строка") and forms[21].startswith("21 строка")
    assert forms[2].startswith("2 строки") and forms[22].startswith("22 строки")
    assert forms[5].startswith("5 строк ") and forms[11].startswith("11 строк ")
    with i18n.use_language("az"):
        assert i18n.gettext("Log in") == "Daxil ol"
        assert str(i18n.lazy_gettext("Log out")) == "Çıxış"
    assert i18n.gettext("Log in") == "Log in"


def test_catalogues_ship_in_the_package():
    """pyproject's package-data takes the .po files (they are read at run time: no .mo)."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = conf["tool"]["setuptools"]["package-data"]["pollwatch"]
    pkg = Path(i18n.__file__).resolve().parents[1]
    for lang in tooling.TRANSLATED:
        rel = i18n.po_path(lang).relative_to(pkg).as_posix()
        assert any(fnmatch(rel, p.replace("**/", "*")) for p in patterns), rel


def test_brace_check_allows_a_plural_form_without_the_count():
    m = Message(("{n} station", "{n} stations"), ("один участок", "{n} участка", "{n} участков"))
    m.flags.add("python-brace-format")
    assert tooling.brace_errors(m) == []
    m.string = ("{n} участок", "{x}", "{n}")
    assert tooling.brace_errors(m) == ["translation names unknown placeholders ['x']"]


@pytest.mark.parametrize(
    "lang,count,number,pct",
    [
        ("en", "1,234,567", "12.35", "12.3 %"),  # the house style of results.fmt_int/fmt_pct
        ("az", "1.234.567", "12,35", "12,3%"),  # CLDR az
        ("ru", "1\xa0234\xa0567", "12,35", "12,3\xa0%"),  # CLDR ru: no-break spaces
    ],
)
def test_numbers_in_the_languages_notation(lang, count, number, pct):
    assert i18n.format_int(1234567.4, lang) == count
    assert i18n.format_number(12.3456, 2, lang) == number
    assert i18n.format_pct(0.123456, 1, lang) == pct
    assert i18n.format_pct(float("nan"), 1, lang) == i18n.gettext("n/a", lang)
    with i18n.use_language(lang):
        assert i18n.format_int(1234567) == count


def test_glossary_extractor_reads_terms_and_texts_with_context(tmp_path):
    src = tmp_path / "glossary.py"
    src.write_text(
        'SIGNALS = _terms(("extreme", "Both above 95 %", "Almost everyone voted."),)\n'
        'READINGS: dict[str, str] = {"flat": "excess votes (flat)"}\n'
        'TEXT: dict[str, str] = {"how_rule_fires": "signals", "x": "Detects:"}\n',
        encoding="utf-8",
    )
    with src.open("rb") as f:
        got = [(fn, msg) for _, fn, msg, _ in tooling.extract_glossary(f, None, None, None)]
    assert ("_", "Both above 95 %") in got and ("_", "Almost everyone voted.") in got
    assert ("_", "excess votes (flat)") in got
    assert ("pgettext", ("how_rule_fires", "signals")) in got  # the TEXT key is the context


def test_pgettext_without_an_entry_is_the_english():
    assert i18n.pgettext("no such context", "Log in", "ru") == "Log in"
