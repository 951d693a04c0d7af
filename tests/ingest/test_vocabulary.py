"""The protocol-line vocabulary: protocol lines are never candidates, in every covered language."""

from __future__ import annotations

import pytest

from pollwatch.ingest.vocabulary import (
    classify_column,
    header_role,
    is_evoting_label,
    is_protocol_line,
    is_station_level,
)


@pytest.mark.parametrize(
    "header,field",
    [
        # Russian, wording of 2011/2012 and of later years
        ("Число избирателей, внесенных в список избирателей", "registered"),
        (
            "Число избирателей, включенных в список избирателей на момент окончания голосования",
            "registered",
        ),
        (
            "Число участников голосования, включенных в список участников голосования на момент окончания голосования",
            "registered",
        ),
        (
            "Число избирательных бюллетеней, полученных участковой избирательной комиссией",
            "ballots_received",
        ),
        (
            "Число избирательных бюллетеней, выданных избирателям, проголосовавшим досрочно",
            "ballots_issued_early",
        ),
        (
            "Число избирательных бюллетеней, выданных в помещениях для голосования в дни голосования",
            "ballots_issued_station",
        ),
        (
            "Число избирательных бюллетеней, выданных вне помещения для голосования в день голосования",
            "ballots_issued_mobile",
        ),
        (
            "Число бюллетеней, содержащихся в стационарных ящиках для голосования",
            "ballots_stationary_box",
        ),
        (
            "Число избирательных бюллетеней в переносных ящиках для голосования",
            "ballots_mobile_box",
        ),
        ("Число недействительных избирательных бюллетеней", "invalid"),
        ("Число действительных избирательных бюллетеней", "valid"),
        ("Число избирательных бюллетеней, не учтённых при получении", "ballots_unaccounted"),
        ("Число открепительных удостоверений, не учтенных при получении", "protocol"),
        ("Число избирателей, проголосовавших по открепительным удостоверениям", "absentee_voted"),
        ("Число открепительных удостоверений, выданных избирателям ТИК", "absentee_issued_higher"),
        ("Число утраченных открепительных удостоверений", "absentee_lost"),
        ("Число заявлений о голосовании вне помещения", "mobile_requests"),
        # Ukrainian, Belarusian, English, Azerbaijani, Spanish, French
        ("Кількість виборців, внесених до списку", "registered"),
        ("Кількість недійсних виборчих бюлетенів", "invalid"),
        ("Колькасць несапраўдных бюлетэняў", "invalid"),
        ("Registered voters", "registered"),
        ("Ballots issued", "protocol"),
        ("Turnout %", "protocol"),
        ("Etibarlı bülletenlərin sayı", "valid"),
        ("Seçicilərin sayı", "protocol"),
        ("Votos nulos", "invalid"),
        ("Votos en blanco", "protocol"),
        ("Inscrits", "registered"),
        ("Exprimés", "valid"),
        ("100.2.8", "protocol"),
        ("Колькасць выбаршчыкаў, уключаных у спіс", "registered"),
        (
            "Кількість виборчих бюлетенів, отриманих дільничною виборчою комісією",
            "ballots_received",
        ),
        ("Seçicilərin siyahısına daxil edilmiş seçicilərin sayı", "registered"),
        ("Boletas recibidas", "ballots_received"),
        ("Nombre de votants", "protocol"),
        ("Bulletins nuls", "invalid"),
        ("Suffrages exprimés", "valid"),
    ],
)
def test_protocol_lines(header, field):
    assert classify_column(header) == field
    assert is_protocol_line(header)


@pytest.mark.parametrize(
    "header",
    [
        "Путин Владимир Владимирович",
        '6. Всероссийская политическая партия "ЕДИНАЯ РОССИЯ"',
        "Союз избирателей",
        "Городецкий Иван Петрович",
        "Carlos Mesa",
        "Да",
        "Нет",
        "Yes",
        "No",
        "Против всех",
        "Jean Dupont (PS)",
        "A",
    ],
)
def test_candidates_and_options_are_not_protocol_lines(header):
    assert classify_column(header) is None
    assert not is_protocol_line(header)


@pytest.mark.parametrize(
    "header,kind,role",
    [
        ("region", "id", "region"),
        ("tik", "id", "commission"),
        ("uik", "id", "station"),
        ("oik", "id", "district"),
        ("level", "text", "level"),
        ("url", "text", "url"),
        ("Наименование комиссии", "text", "commission"),
        ("uik_number", "id", "station"),
        ("Территориальная избирательная комиссия", "id", "commission"),
    ],
)
def test_identifiers(header, kind, role):
    assert classify_column(header) == kind
    assert header_role(header) == role
    assert not is_protocol_line(header)


def test_level_and_evoting_values():
    assert is_station_level("УИК") and is_station_level("Polling station")
    assert not is_station_level("ТИК") and not is_station_level("Регион")
    assert is_evoting_label(
        "Территориальная избирательная комиссия дистанционного электронного голосования"
    )
    assert is_evoting_label("ТИК ДЭГ") and not is_evoting_label("Дегтярск")
