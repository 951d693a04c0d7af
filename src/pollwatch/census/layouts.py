"""Protocol layouts the census can draw and read: which line sits where, in what order.

Two layouts: Azerbaijan's precinct protocol (Election Code Art. 100.2, the lines the
``azerbaijan_pec`` preset maps) and Russia's precinct (UIK) protocol (67-FZ art. 68, lines 1-10
then the candidates). Field names are the model's (``docs/mapping.md``), so numbers read from a
sheet go straight into a sheets file (``docs/census.md`` §1).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LAYOUTS", "Layout", "layout"]


@dataclass(frozen=True)
class Layout:
    """A protocol form: its title and its lines in printed order as (code, label, field)."""

    name: str
    title: str
    station_label: str
    lines: tuple[tuple[str, str, str], ...]

    def fields(self, candidates: tuple[str, ...]) -> tuple[str, ...]:
        """Every box on the sheet, in order: the protocol lines, then one per candidate."""
        return (*(f for _, _, f in self.lines), *candidates)


AZERBAIJAN = Layout(
    "azerbaijan",
    "Seçki məntəqəsi seçki komissiyasının səsvermənin nəticələrinə dair PROTOKOLU",
    "Seçki məntəqəsi",
    (
        ("100.2.1", "Seçici siyahılarına daxil edilmiş seçicilərin sayı", "registered"),
        ("100.2.3", "Məntəqə seçki komissiyasının aldığı seçki bülletenlərinin sayı", "ballots_received"),
        ("100.2.5", "Seçicilərə verilmiş seçki bülletenlərinin sayı", "ballots_issued_station"),
        ("100.2.6", "Səyyar qutu ilə səs verənlərə verilmiş bülletenlərin sayı", "ballots_issued_mobile"),
        ("100.2.9", "Ləğv edilmiş seçki bülletenlərinin sayı", "ballots_cancelled"),
        ("100.2.12", "Səyyar qutulardakı seçki bülletenlərinin sayı", "ballots_mobile_box"),
        ("100.2.13", "Stasionar qutulardakı seçki bülletenlərinin sayı", "ballots_stationary_box"),
        ("100.2.14", "Etibarlı seçki bülletenlərinin sayı", "valid"),
        ("100.2.15", "Etibarsız seçki bülletenlərinin sayı", "invalid"),
    ),
)  # fmt: skip

RUSSIA = Layout(
    "russia",
    "ПРОТОКОЛ участковой избирательной комиссии об итогах голосования",
    "Избирательный участок №",
    (
        ("1", "Число избирателей, внесенных в список избирателей", "registered"),
        ("2", "Число избирательных бюллетеней, полученных участковой комиссией", "ballots_received"),
        ("3", "Число бюллетеней, выданных избирателям, проголосовавшим досрочно", "ballots_issued_early"),
        ("4", "Число бюллетеней, выданных в помещении для голосования", "ballots_issued_station"),
        ("5", "Число бюллетеней, выданных вне помещения для голосования", "ballots_issued_mobile"),
        ("6", "Число погашенных избирательных бюллетеней", "ballots_cancelled"),
        ("7", "Число бюллетеней, содержащихся в переносных ящиках", "ballots_mobile_box"),
        ("8", "Число бюллетеней, содержащихся в стационарных ящиках", "ballots_stationary_box"),
        ("9", "Число недействительных избирательных бюллетеней", "invalid"),
        ("10", "Число действительных избирательных бюллетеней", "valid"),
    ),
)  # fmt: skip

LAYOUTS = {lay.name: lay for lay in (AZERBAIJAN, RUSSIA)}


def layout(name: str) -> Layout:
    if name not in LAYOUTS:
        raise ValueError(f"layout ({name!r}) not recognised; must be one of {', '.join(LAYOUTS)}")
    return LAYOUTS[name]
