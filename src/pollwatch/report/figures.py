"""Figures for the report: pure functions returning inline SVG strings.

Matplotlib (Agg backend) renders to SVG text with no external references. Plotted points
are aggregated into histograms first, so a figure's size does not grow with the number of
stations. Each function returns ``Figure(svg, caption)``; captions say what to look for.

Publishable at any width: every figure is ``WIDTH`` inches wide with constrained layout and
font sizes derived from that width (:func:`font_pt`), so text stays legible when the SVG
shrinks to a phone screen; tick labels are plain numbers with thousands separators (no
offset, no 1e6); colours are Okabe and Ito's colour-blind-safe palette; names are wrapped,
never cut, or drawn under short labels with the full names in the figure's legend table
(``Figure.names``); a spike that would flatten a histogram is cut and labelled with its count.

Every text is translated into the language of the enclosing ``pollwatch.i18n.use_language``
block (``build_report(..., lang=)`` sets it), numbers on ticks and labels in its notation.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure as _MplFigure  # noqa: E402
from matplotlib.ticker import MaxNLocator, ScalarFormatter  # noqa: E402

from pollwatch.i18n import format_int, format_number, gettext, ngettext  # noqa: E402

# Okabe & Ito's colour-blind-safe palette (black first, then the eight hues' usual order)
OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
ACCENT = "#D55E00"  # vermillion: the leader, flagged values
NEUTRAL = "#4d4d4d"
CLEAN = "#0072B2"  # blue: the clean reference
OTHERS = [c for c in OKABE_ITO if c not in (ACCENT, CLEAN, "#F0E442")] + ["#F0E442"]

# Every figure is WIDTH inches wide, so its SVG is WIDTH * 96 CSS px wide at natural size and
# shrinks with the page (``max-width: 100 %``). Font sizes follow from that width: text is at
# least MIN_PX CSS px high when the figure is shrunk to PHONE_PX (a 400 px screen less the
# page's padding), and grows with the figure on wider screens.
WIDTH = 6.0
PHONE_PX = 368
MIN_PX = 9.0


def font_pt(px: float, width_in: float = WIDTH, at_px: float = PHONE_PX) -> float:
    """The font size (pt) that renders ``px`` CSS px high when a figure ``width_in`` inches
    wide is scaled to ``at_px`` CSS px (never below ``px`` at natural size)."""
    scale = min(1.0, at_px / (width_in * 96))
    return round(px * 72 / 96 / scale, 1)


TICK_PT = font_pt(MIN_PX)
TEXT_PT = font_pt(MIN_PX + 1)

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.size": TEXT_PT,
        "axes.titlesize": TEXT_PT,
        "axes.labelsize": TEXT_PT,
        "xtick.labelsize": TICK_PT,
        "ytick.labelsize": TICK_PT,
        "legend.fontsize": TICK_PT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "axes.formatter.useoffset": False,
        "axes.formatter.limits": (-9, 12),
        "figure.dpi": 100,
    }
)


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    svg: str
    caption: str
    # (label drawn in the figure, full name, colour): the legend table under the figure
    names: tuple[tuple[str, str, str], ...] = ()


class PlainFormatter(ScalarFormatter):
    """Tick labels as plain numbers with thousands separators: no offset, no 1e6."""

    def __init__(self) -> None:
        super().__init__(useOffset=False, useMathText=False)
        self.set_scientific(False)

    def __call__(self, x, pos=None) -> str:
        text = super().__call__(x, pos)
        m = re.match(r"^([\u2212-]?)(\d{4,})(.*)$", text)
        return f"{m.group(1)}{format_int(int(m.group(2)))}{m.group(3)}" if m else text


def _new(height: float, ncols: int = 1, *, nrows: int = 1, **kw):
    """A figure WIDTH inches wide with constrained layout (labels never overlap the axes);
    its axes as a flat list."""
    fig = _MplFigure(figsize=(WIDTH, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw).ravel()
    return fig, list(axes)


def _plain(fig) -> None:
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter) and not isinstance(
                axis.get_major_formatter(), PlainFormatter
            ):
                axis.set_major_formatter(PlainFormatter())


def _svg(fig) -> str:
    _plain(fig)
    buf = io.StringIO()
    fig.savefig(
        buf,
        format="svg",
        bbox_inches="tight",
        pad_inches=0.03,
        metadata={"Date": None, "Creator": None},
    )
    text = buf.getvalue()
    return text[text.find("<svg") :]  # drop the XML prolog and DOCTYPE (inline SVG)


def wrap(name: str, width: int = 28) -> str:
    """The whole name on as many lines as it needs (never cut)."""
    return "\n".join(textwrap.wrap(str(name), width, break_long_words=False)) or str(name)


def short_names(names: Sequence[str], maxlen: int = 24) -> list[str]:
    """Short, distinct labels for figures; the full names go in the legend table.

    A name that fits is kept; a person's name becomes surname and initials. Otherwise its
    ballot number is kept and the rest shortened to
    the quoted name ("ЕДИНАЯ РОССИЯ"), else its run of capitals, else initials, else cut;
    labels that still collide get their position appended.
    """
    out = []
    for name in names:
        name = str(name).strip()
        if len(name) <= maxlen:
            out.append(name)
            continue
        words = name.split()
        if 2 <= len(words) <= 4 and all(w[:1].isupper() and w.isalpha() for w in words):
            person = words[0] + " " + " ".join(w[0] + "." for w in words[1:])  # Путин В. В.
            if len(person) <= maxlen:
                out.append(person)
                continue
        num = re.match(r"^\s*(\d+)[.)]?\s+", name)
        prefix = num.group(1) + ". " if num else ""
        rest = name[num.end() :] if num else name
        q = re.search(r"[\"«“„']([^\"»”“']{2,})[\"»”“']", rest)
        caps = re.findall(
            r"\b[A-ZА-ЯЁƏÜÖĞÇŞİ][A-ZА-ЯЁƏÜÖĞÇŞİ\-]+(?:\s+[A-ZА-ЯЁƏÜÖĞÇŞİ\-]{2,})+", rest
        )
        core = q.group(1).strip() if q else (max(caps, key=len) if caps else rest)
        if len(prefix + core) > maxlen:
            words = [w for w in re.findall(r"\w+", core) if w[:1].isupper()] or re.findall(
                r"\w+", core
            )
            initials = "".join(w[0].upper() for w in words)
            core = initials if 2 <= len(initials) <= maxlen - len(prefix) else core
        label = prefix + core
        if len(label) > maxlen:
            label = label[: maxlen - 1].rstrip() + "…"
        out.append(label)
    seen: dict[str, int] = {}
    for lab in out:
        seen[lab] = seen.get(lab, 0) + 1
    return [f"{lab} ({i + 1})" if seen[lab] > 1 else lab for i, lab in enumerate(out)]


def _clip_spikes(ax, h: np.ndarray, edges: np.ndarray, q: float = 0.995) -> None:
    """Set the y-axis by the body of the distribution, not its tallest spike.

    The limit is a little above the ``q`` quantile of the non-empty bins; when a bin stands
    far above it (a 100 % turnout spike), the axis is clipped there and the tallest clipped
    bin is labelled with its count (an arrow at the top of the axes)."""
    full = h[h > 0]
    if full.size < 20:
        return
    cap = float(np.quantile(full, q)) * 1.15
    top = float(h.max())
    if top <= 1.5 * cap:
        return
    ax.set_ylim(0, cap)
    i = int(np.argmax(h))
    x = 0.5 * (edges[i] + edges[i + 1])
    n_clipped = int((h > cap).sum())
    text = ngettext(
        "{n} station at {x} %, cut", "{n} stations at {x} %, cut", int(round(top))
    ).format(n=format_int(top), x=format_number(x, 1))
    if n_clipped > 1:
        text += " " + ngettext(
            "({n} more bin clipped)", "({n} more bins clipped)", n_clipped - 1
        ).format(n=n_clipped - 1)
    ax.annotate(
        text,
        xy=(x, cap),
        xytext=(-8, -4),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=TICK_PT,
        arrowprops={"arrowstyle": "->", "color": NEUTRAL, "lw": 0.8},
    )


def percent_histograms(
    turnout_pct: np.ndarray,
    share_pct: np.ndarray,
    *,
    weights=None,
    leader: str = "",
    basis: str = "issued",
) -> Figure:
    """Turnout and leader-share histograms at 0.1-pp bins, so whole-percent spikes show.

    Each y-axis shows the body of its distribution; a spike far above it (100 % turnout) is
    clipped and labelled with its count."""
    fig, axes = _new(6.0, nrows=2, sharex=True)
    edges = np.arange(-0.05, 100.06, 0.1)
    for ax, x, label, color in (
        (
            axes[0],
            turnout_pct,
            gettext("turnout (ballots issued) %")
            if basis == "issued"
            else gettext("turnout (ballots cast) %"),
            NEUTRAL,
        ),
        (
            axes[1],
            share_pct,
            gettext("{name}: share %").format(name=wrap(leader or gettext("leader"), 48)),
            ACCENT,
        ),
    ):
        ok = np.isfinite(x)
        h, _ = np.histogram(x[ok], bins=edges, weights=None if weights is None else weights[ok])
        # one filled step path, not 1,001 bar patches: the same picture, ~20x faster to render
        ax.stairs(h, edges, fill=True, color=color, linewidth=0)
        for j in range(10, 100, 10):
            ax.axvline(j, color="#bbbbbb", lw=0.4, zorder=0)
        ax.set_ylabel(gettext("stations"))
        ax.set_title(label, loc="left")
        _clip_spikes(ax, h, edges)
    axes[1].set_xlabel(gettext("percent (0.1-pp bins)"))
    axes[1].set_xlim(0, 100.6)  # the 100 % bin whole, not half hidden by the axis' end
    return Figure(
        "histograms",
        gettext("Turnout and leader share"),
        _svg(fig),
        gettext(
            "Station counts in 0.1-percentage-point bins. A fair count gives smooth curves; "
            "sharp spikes at whole or round percentages (50, 60, 70 …) suggest numbers written into "
            "protocols rather than counted. Where one bin (often 100 % turnout) towers over the rest, "
            "the axis is cut to show the body of the distribution and the bin's count is written on it."
        ),
    )


def fingerprint(
    turnout: np.ndarray,
    share: np.ndarray,
    *,
    model: np.ndarray | None = None,
    leader: str = "",
    model_label: str = "",
) -> Figure:
    """2-D turnout × share histogram (log colour), optionally beside the fitted model's."""
    ok = np.isfinite(turnout) & np.isfinite(share)
    edges = (np.arange(102) - 0.5) / 100
    h, _, _ = np.histogram2d(turnout[ok], share[ok], bins=[edges, edges])
    panels = [(gettext("official results"), h)] + (
        [(model_label or gettext("fitted Klimek model"), np.asarray(model))]
        if model is not None
        else []
    )
    fig, axes = _new(3.6 if len(panels) > 1 else 4.6, len(panels), sharey=True)
    vmax = max(float(p.max()) for _, p in panels) or 1.0
    for i, (ax, (title, data)) in enumerate(zip(axes, panels, strict=True)):
        im = ax.imshow(
            np.ma.masked_less_equal(data.T, 0),
            origin="lower",
            extent=(-0.5, 100.5, -0.5, 100.5),
            norm=LogNorm(vmin=1, vmax=max(vmax, 2)),
            cmap="viridis",
            aspect="auto",
            interpolation="nearest",
        )
        ax.set_xticks([0, 50, 100] if len(panels) > 1 else [0, 25, 50, 75, 100])
        ax.set_xlabel(gettext("turnout %"))
        if i == 0:
            ax.set_ylabel(
                gettext("{name}: share %").format(
                    name=short_names([leader or gettext("leader")])[0]
                )
            )
        ax.set_title(title, loc="left")
    fig.get_layout_engine().set(w_pad=0.08, wspace=0.08)
    fig.colorbar(im, ax=list(axes), label=gettext("stations (log scale)"), shrink=0.85)
    return Figure(
        "fingerprint",
        gettext("Election fingerprint"),
        _svg(fig),
        gettext(
            "Each cell counts stations with that turnout and leader share. A fair election is one compact "
            "blob; ballot stuffing smears it towards the top right (100 % turnout, 100 % for the leader), "
            "often with a second cluster there. Genuine regional differences can also create clusters."
        ),
    )


def regional_fingerprints(
    turnout: np.ndarray,
    share: np.ndarray,
    regions: np.ndarray,
    *,
    leader: str = "",
    top: int = 6,
) -> Figure | None:
    """The fingerprint of each of the ``top`` largest regions (by stations), small multiples
    on shared axes and one shared log colour scale, at 2-pp bins. None with fewer than two
    regions."""
    ok = np.isfinite(turnout) & np.isfinite(share)
    names, counts = np.unique(np.asarray(regions)[ok].astype(str), return_counts=True)
    if len(names) < 2:
        return None
    order = np.argsort(-counts, kind="stable")[:top]
    edges = np.linspace(0, 1, 51)
    hists = []
    for i in order:
        m = ok & (np.asarray(regions).astype(str) == names[i])
        hists.append(np.histogram2d(turnout[m], share[m], bins=[edges, edges])[0])
    nrows = (len(order) + 1) // 2
    fig, axes = _new(2.4 * nrows + 0.9, 2, nrows=nrows, sharex=True, sharey=True)
    vmax = max(float(h.max()) for h in hists) or 1.0
    im = None
    for k, ax in enumerate(axes):
        if k >= len(order):
            ax.set_visible(False)
            continue
        im = ax.imshow(
            np.ma.masked_less_equal(hists[k].T, 0),
            origin="lower",
            extent=(0, 100, 0, 100),
            norm=LogNorm(vmin=1, vmax=max(vmax, 2)),
            cmap="viridis",
            aspect="auto",
            interpolation="nearest",
        )
        ax.set_xticks([0, 50, 100])
        ax.set_yticks([0, 50, 100])
        # wrapped narrow enough that two neighbouring titles never meet (Cyrillic is wide)
        ax.set_title(wrap(f"{names[order[k]]} ({format_int(counts[order[k]])})", 18), loc="left")
        if k % 2 == 0:
            ax.set_ylabel(gettext("share %"))
        if k >= len(axes) - 2:
            ax.set_xlabel(gettext("turnout %"))
    fig.get_layout_engine().set(w_pad=0.08, wspace=0.08)
    fig.colorbar(
        im, ax=[a for a in axes if a.get_visible()], label=gettext("stations (log)"), shrink=0.6
    )
    return Figure(
        "fingerprint-regions",
        gettext("Fingerprints of the largest regions"),
        _svg(fig),
        gettext(
            "The same picture for the {n} regions with the most stations (station count in "
            "brackets), {leader}'s share against turnout in 2-pp cells. A second cluster in one "
            "region but not the others points to where to look; a region whose single blob sits "
            "higher than the rest may simply vote differently."
        ).format(n=len(order), leader=short_names([leader or gettext("leader")])[0]),
    )


def shpilkin(
    bin_centres: np.ndarray,
    leader_votes: np.ndarray,
    others_votes: np.ndarray,
    clean_leader: np.ndarray | None,
    mode: float | None,
    leader: str = "",
    candidates: dict[str, np.ndarray] | None = None,
) -> Figure:
    """Votes per turnout bin, each candidate, with the extrapolated clean leader line.

    Candidates are drawn under short labels (:func:`short_names`); the figure's legend
    table gives each label's full name and colour."""
    fig, (ax,) = _new(4.8)
    leader = leader or gettext("leader")
    names = [leader] + list(candidates or {})
    short = short_names(names)
    table = [(short[0], leader, ACCENT)]
    ax.plot(bin_centres, leader_votes / 1e3, color=ACCENT, lw=1.8, label=short[0])
    if candidates:
        for j, (name, v) in enumerate(candidates.items()):
            color = OTHERS[j % len(OTHERS)]
            ax.plot(bin_centres, v / 1e3, lw=1.0, color=color, label=short[j + 1])
            table.append((short[j + 1], name, color))
    else:
        ax.plot(bin_centres, others_votes / 1e3, color=NEUTRAL, lw=1.2, label=gettext("all others"))
    if clean_leader is not None:
        ax.fill_between(
            bin_centres,
            clean_leader / 1e3,
            leader_votes / 1e3,
            where=leader_votes > clean_leader,
            color=ACCENT,
            alpha=0.18,
            label=gettext("excess over clean"),
        )
        ax.plot(
            bin_centres,
            clean_leader / 1e3,
            color=CLEAN,
            lw=1.2,
            ls="--",
            label=gettext("leader if clean (k × others)"),
        )
    if mode is not None:
        ax.axvline(mode, color="#999999", lw=0.8, ls=":")
    ax.set_xlabel(gettext("turnout % (1-pp bins)"))
    ax.set_ylabel(gettext("thousand votes"))
    ax.set_xlim(0, 100)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    return Figure(
        "shpilkin",
        gettext("Votes by turnout (Shpilkin)"),
        _svg(fig),
        gettext(
            "Votes for each candidate summed over stations in each turnout bin. If added ballots are not "
            "the problem, every candidate's curve has the same shape. Above the natural peak (dotted line) "
            "the leader's curve rising while the others fall is the excess the method counts (shaded)."
        ),
        tuple(table),
    )


def integer_panel(
    percents: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    band: np.ndarray | None = None,
    label: str = "",
) -> Figure:
    """Observed vs expected station counts at each whole percent."""
    fig, (ax,) = _new(4.0)
    ax.bar(percents, observed, width=0.8, color=ACCENT, alpha=0.75, label=gettext("observed"))
    ax.plot(percents, expected, color=NEUTRAL, lw=1.2, label=gettext("expected by chance"))
    if band is not None:
        ax.fill_between(
            percents,
            expected - band,
            expected + band,
            color=NEUTRAL,
            alpha=0.15,
            lw=0,
            label=gettext("chance ± 2 sd"),
        )
    ax.set_xlabel(gettext("whole percent (turnout or leader share)"))
    ax.set_ylabel(wrap(label or gettext("stations at a whole percent"), 30))
    fig.legend(loc="outside lower center", ncols=3, frameon=False)
    return Figure(
        "integers",
        gettext("Whole-percent excess"),
        _svg(fig),
        gettext(
            "For each whole percent, how many stations report a turnout or leader share within ±0.05 pp "
            "of it, against the count expected from binomial chance given each station's size. Bars far "
            "above the line, especially at round numbers, mean percentages were set, not counted."
        ),
    )


def digit_intervals(
    rows: Sequence[tuple[str, float, float, float, float]],
    title: str,
    null: float,
    key: str | None = None,
) -> Figure:
    """Point estimates and intervals of a digit statistic per count, against its null value."""
    labels = [wrap(r[0], 24) for r in rows]
    lines = sum(lab.count("\n") + 1 for lab in labels)
    fig, (ax,) = _new(0.22 * lines + 0.12 * len(rows) + 1.2)
    for i, (_name, est, lo, hi, _n) in enumerate(rows):
        bad = not (lo <= null <= hi) if np.isfinite(lo) and np.isfinite(hi) else False
        ax.errorbar(
            est,
            i,
            xerr=[[est - lo], [hi - est]] if np.isfinite(lo) else None,
            fmt="o",
            color=ACCENT if bad else NEUTRAL,
            ms=4,
            capsize=2,
        )
    ax.axvline(null, color=CLEAN, lw=1, ls="--")
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_title(title, loc="left")
    return Figure(
        key or f"digits-{title[:12]}",  # a translated title must not change the anchor
        title,
        _svg(fig),
        gettext(
            "Mean digit with its 95 % bootstrap interval; the dashed line is what honest counts give "
            "({null}). Vermillion marks an interval that excludes it. Digit tests are weak evidence: they also "
            "react to strategic voting and small counts, and some fraud moves digits towards the null."
        ).format(null=format_number(null, 3)),
    )


def regional_bars(
    labels: Sequence[str],
    values: np.ndarray,
    errors: np.ndarray | None = None,
    xlabel: str = "",
    title: str = "",
    top: int = 25,
) -> Figure:
    """Horizontal bars of a per-region quantity (largest first)."""
    order = np.argsort(-np.asarray(values))[:top]
    names = [wrap(labels[i], 30) for i in order]
    extra = sum(n.count("\n") for n in names)  # rows whose name takes more than one line
    fig, (ax,) = _new(0.3 * len(order) + 0.2 * extra + 1.0)
    ax.barh(
        range(len(order)),
        np.asarray(values)[order],
        color=ACCENT,
        alpha=0.8,
        xerr=None if errors is None else np.asarray(errors)[order],
    )
    ax.set_yticks(range(len(order)), names)
    ax.margins(y=0.01)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=3))  # "1,000,000" is wide at phone size
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or gettext("excess votes"))
    return Figure(
        "regions",
        title or gettext("Regional breakdown"),
        _svg(fig),
        ngettext(
            "The region with the largest value. Regional estimates use each region's own clean "
            "kernel, so they need not add up to the national figure.",
            "The {n} regions with the largest values. Regional estimates use each region's own "
            "clean kernel, so they need not add up to the national figure.",
            len(order),
        ).format(n=len(order)),
    )


def choropleth(geojson: dict, values: dict[str, float], key: str, label: str) -> Figure:
    """Regions coloured by value, drawn from a GeoJSON of polygons (no map tiles, no network)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    patches, vals = [], []
    for feat in geojson.get("features", []):
        name = str(feat.get("properties", {}).get(key, ""))
        geom = feat.get("geometry") or {}
        polys = geom.get("coordinates", [])
        if geom.get("type") == "Polygon":
            polys = [polys]
        for poly in polys:
            ring = np.asarray(poly[0])
            patches.append(Polygon(ring[:, :2], closed=True))
            vals.append(values.get(name, np.nan))
    fig, (ax,) = _new(4.6)
    coll = PatchCollection(patches, cmap="Reds", edgecolor="white", linewidth=0.3)
    coll.set_array(np.ma.masked_invalid(np.asarray(vals, dtype=float)))
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")
    fig.colorbar(coll, ax=ax, label=label, shrink=0.7)
    return Figure(
        "map",
        gettext("Map"),
        _svg(fig),
        gettext("Regions coloured by {label}; grey where there is no estimate.").format(
            label=label
        ),
    )
