"""Figures for the report: pure functions returning inline SVG strings.

Matplotlib (Agg backend) renders to SVG text with no external references. Plotted points
are aggregated into histograms first, so a figure's size does not grow with the number of
stations. Each function returns ``Figure(svg, caption)``; captions say what to look for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 100,
    }
)

ACCENT = "#b2182b"
NEUTRAL = "#4d4d4d"
CLEAN = "#2166ac"


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    svg: str
    caption: str


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg") :]  # drop the XML prolog and DOCTYPE (inline SVG)


def percent_histograms(
    turnout_pct: np.ndarray,
    share_pct: np.ndarray,
    *,
    weights=None,
    leader: str = "leader",
    basis: str = "issued",
) -> Figure:
    """Turnout and leader-share histograms at 0.1-pp bins, so whole-percent spikes show."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 4.6), sharex=True)
    edges = np.arange(-0.05, 100.06, 0.1)
    for ax, x, label, color in (
        (axes[0], turnout_pct, f"turnout ({basis}) %", NEUTRAL),
        (axes[1], share_pct, f"{leader} share %", ACCENT),
    ):
        ok = np.isfinite(x)
        h, _ = np.histogram(x[ok], bins=edges, weights=None if weights is None else weights[ok])
        # one filled step path, not 1,001 bar patches: the same picture, ~20x faster to render
        ax.stairs(h, edges, fill=True, color=color, linewidth=0)
        for j in range(10, 100, 10):
            ax.axvline(j, color="#bbbbbb", lw=0.4, zorder=0)
        ax.set_ylabel("stations")
        ax.set_title(label, loc="left", fontsize=9)
    axes[1].set_xlabel("percent (0.1-pp bins)")
    axes[1].set_xlim(0, 100)
    return Figure(
        "histograms",
        "Turnout and leader share",
        _svg(fig),
        "Station counts in 0.1-percentage-point bins. A fair count gives smooth curves; "
        "sharp spikes at whole or round percentages (50, 60, 70 …) suggest numbers written into "
        "protocols rather than counted.",
    )


def fingerprint(
    turnout: np.ndarray,
    share: np.ndarray,
    *,
    model: np.ndarray | None = None,
    leader: str = "leader",
    model_label: str = "fitted Klimek model",
) -> Figure:
    """2-D turnout × share histogram (log colour), optionally beside the fitted model's."""
    ok = np.isfinite(turnout) & np.isfinite(share)
    edges = (np.arange(102) - 0.5) / 100
    h, _, _ = np.histogram2d(turnout[ok], share[ok], bins=[edges, edges])
    panels = [("official results", h)] + (
        [(model_label, np.asarray(model))] if model is not None else []
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
    vmax = max(float(p.max()) for _, p in panels) or 1.0
    for ax, (title, data) in zip(axes[0], panels, strict=True):
        im = ax.imshow(
            np.ma.masked_less_equal(data.T, 0),
            origin="lower",
            extent=(-0.5, 100.5, -0.5, 100.5),
            norm=LogNorm(vmin=1, vmax=max(vmax, 2)),
            cmap="viridis",
            aspect="auto",
            interpolation="nearest",
        )
        ax.set_xlabel("turnout %")
        ax.set_ylabel(f"{leader} share %")
        ax.set_title(title, loc="left", fontsize=9)
    fig.colorbar(im, ax=axes[0].tolist(), label="stations (log scale)", shrink=0.85)
    return Figure(
        "fingerprint",
        "Election fingerprint",
        _svg(fig),
        "Each cell counts stations with that turnout and leader share. A fair election is one compact "
        "blob; ballot stuffing smears it towards the top right (100 % turnout, 100 % for the leader), "
        "often with a second cluster there. Genuine regional differences can also create clusters.",
    )


def shpilkin(
    bin_centres: np.ndarray,
    leader_votes: np.ndarray,
    others_votes: np.ndarray,
    clean_leader: np.ndarray | None,
    mode: float | None,
    leader: str = "leader",
    candidates: dict[str, np.ndarray] | None = None,
) -> Figure:
    """Votes per turnout bin, each candidate, with the extrapolated clean leader line."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(bin_centres, leader_votes / 1e3, color=ACCENT, lw=1.6, label=f"{leader} (official)")
    if candidates:
        for name, v in candidates.items():
            ax.plot(bin_centres, v / 1e3, lw=0.8, alpha=0.8, label=name)
    else:
        ax.plot(bin_centres, others_votes / 1e3, color=NEUTRAL, lw=1.2, label="all others")
    if clean_leader is not None:
        ax.fill_between(
            bin_centres,
            clean_leader / 1e3,
            leader_votes / 1e3,
            where=leader_votes > clean_leader,
            color=ACCENT,
            alpha=0.18,
            label="excess over clean line",
        )
        ax.plot(
            bin_centres,
            clean_leader / 1e3,
            color=CLEAN,
            lw=1.2,
            ls="--",
            label=f"{leader}, clean (k × others)",
        )
    if mode is not None:
        ax.axvline(mode, color="#999999", lw=0.8, ls=":")
    ax.set_xlabel("turnout % (1-pp bins)")
    ax.set_ylabel("thousand votes")
    ax.set_xlim(0, 100)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    return Figure(
        "shpilkin",
        "Votes by turnout (Shpilkin)",
        _svg(fig),
        "Votes for each candidate summed over stations in each turnout bin. If added ballots are not "
        "the problem, every candidate's curve has the same shape. Above the natural peak (dotted line) "
        "the leader's curve rising while the others fall is the excess the method counts (shaded).",
    )


def integer_panel(
    percents: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    band: np.ndarray | None = None,
    label: str = "stations at a whole percent",
) -> Figure:
    """Observed vs expected station counts at each whole percent."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(percents, observed, width=0.8, color=ACCENT, alpha=0.75, label="observed")
    ax.plot(percents, expected, color=NEUTRAL, lw=1.2, label="expected by chance")
    if band is not None:
        ax.fill_between(
            percents,
            expected - band,
            expected + band,
            color=NEUTRAL,
            alpha=0.15,
            lw=0,
            label="chance ± 2 sd",
        )
    ax.set_xlabel("whole percent (turnout or leader share)")
    ax.set_ylabel(label)
    ax.legend(fontsize=7, frameon=False)
    return Figure(
        "integers",
        "Whole-percent excess",
        _svg(fig),
        "For each whole percent, how many stations report a turnout or leader share within ±0.05 pp "
        "of it, against the count expected from binomial chance given each station's size. Bars far "
        "above the line, especially at round numbers, mean percentages were set, not counted.",
    )


def digit_intervals(
    rows: Sequence[tuple[str, float, float, float, float]], title: str, null: float
) -> Figure:
    """Point estimates and intervals of a digit statistic per count, against its null value."""
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.0))
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
    ax.set_yticks(range(len(rows)), [r[0][:40] for r in rows])
    ax.invert_yaxis()
    ax.set_title(title, loc="left", fontsize=9)
    return Figure(
        f"digits-{title[:12]}",
        title,
        _svg(fig),
        f"Mean digit with its 95 % bootstrap interval; the dashed line is what honest counts give "
        f"({null}). Red marks an interval that excludes it. Digit tests are weak evidence: they also "
        "react to strategic voting and small counts, and some fraud moves digits towards the null.",
    )


def regional_bars(
    labels: Sequence[str],
    values: np.ndarray,
    errors: np.ndarray | None = None,
    xlabel: str = "excess votes",
    title: str = "Regional breakdown",
    top: int = 25,
) -> Figure:
    """Horizontal bars of a per-region quantity (largest first)."""
    order = np.argsort(-np.asarray(values))[:top]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(order) + 1.0))
    ax.barh(
        range(len(order)),
        np.asarray(values)[order],
        color=ACCENT,
        alpha=0.8,
        xerr=None if errors is None else np.asarray(errors)[order],
    )
    ax.set_yticks(range(len(order)), [str(labels[i])[:45] for i in order])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    return Figure(
        "regions",
        title,
        _svg(fig),
        f"The {len(order)} regions with the largest values. Regional estimates use each region's own "
        "clean kernel, so they need not add up to the national figure.",
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
    fig, ax = plt.subplots(figsize=(8, 5))
    coll = PatchCollection(patches, cmap="Reds", edgecolor="white", linewidth=0.3)
    coll.set_array(np.ma.masked_invalid(np.asarray(vals, dtype=float)))
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")
    fig.colorbar(coll, ax=ax, label=label, shrink=0.7)
    return Figure(
        "map", "Map", _svg(fig), f"Regions coloured by {label}; grey where there is no estimate."
    )
