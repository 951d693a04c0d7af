"""Parameters of a simulated election: the clean electorate and each kind of injected fraud."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} ({value}) must be in the interval [0, 1].")


def _check_range(name: str, lo_hi: tuple[float, float]) -> None:
    lo, hi = lo_hi
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"{name} ({lo_hi}) must be a (low, high) pair with 0 ≤ low ≤ high ≤ 1.")


@dataclass(frozen=True)
class Stuffing:
    """Extra ballots for the favoured candidate at ``fraction`` of stations; turnout rises.

    At a stuffed station a share ``x ~ U(intensity)`` of the people who did not vote is
    turned into ballots for the favoured candidate. ``clustered`` concentrates the
    stuffed stations in a third of the constituencies (as real fraud is organised)."""

    fraction: float = 0.0
    intensity: tuple[float, float] = (0.15, 0.6)
    clustered: bool = True

    def __post_init__(self) -> None:
        _check_fraction("stuffing.fraction", self.fraction)
        _check_range("stuffing.intensity", self.intensity)


@dataclass(frozen=True)
class Switching:
    """A share ``y ~ U(intensity)`` of other candidates' votes moved to the favoured one."""

    fraction: float = 0.0
    intensity: tuple[float, float] = (0.1, 0.4)

    def __post_init__(self) -> None:
        _check_fraction("switching.fraction", self.fraction)
        _check_range("switching.intensity", self.intensity)


@dataclass(frozen=True)
class Carousel:
    """Extra voters brought in on additional lists / absentee certificates, voting for the
    favoured candidate: ``c ~ U(intensity)`` of the station's electorate, at ``fraction`` of
    stations concentrated in ``constituency_share`` of the constituencies."""

    fraction: float = 0.0
    intensity: tuple[float, float] = (0.03, 0.12)
    constituency_share: float = 0.25

    def __post_init__(self) -> None:
        _check_fraction("carousel.fraction", self.fraction)
        _check_range("carousel.intensity", self.intensity)
        _check_fraction("carousel.constituency_share", self.constituency_share)


@dataclass(frozen=True)
class Rounding:
    """Protocols rewritten so that turnout and/or the favoured share is a whole percent
    (``round_to`` = 1 for any whole percent, 5 or 10 for round numbers)."""

    fraction: float = 0.0
    target: str = "both"
    round_to: int = 1

    def __post_init__(self) -> None:
        _check_fraction("rounding.fraction", self.fraction)
        if self.target not in ("turnout", "share", "both"):
            raise ValueError(
                f"rounding.target ({self.target!r}) not recognised; must be 'turnout', 'share' or 'both'"
            )
        if self.round_to not in (1, 5, 10):
            raise ValueError(f"rounding.round_to ({self.round_to}) must be 1, 5 or 10")


@dataclass(frozen=True)
class Extreme:
    """Stations pushed near 100 % turnout and 100 % for the favoured candidate."""

    fraction: float = 0.0
    low: float = 0.95

    def __post_init__(self) -> None:
        _check_fraction("extreme.fraction", self.fraction)
        _check_fraction("extreme.low", self.low)


@dataclass(frozen=True)
class FraudConfig:
    """Every kind of injected fraud; all off by default (a clean election)."""

    stuffing: Stuffing = field(default_factory=Stuffing)
    switching: Switching = field(default_factory=Switching)
    carousel: Carousel = field(default_factory=Carousel)
    rounding: Rounding = field(default_factory=Rounding)
    extreme: Extreme = field(default_factory=Extreme)
    favoured: int = 0  # index of the favoured candidate

    @property
    def any(self) -> bool:
        return any(
            getattr(self, k).fraction > 0
            for k in ("stuffing", "switching", "carousel", "rounding", "extreme")
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ElectorateConfig:
    """The clean election: sizes, turnout and preferences varying by region and station."""

    n_stations: int = 10_000
    n_regions: int = 10
    n_constituencies: int = 100
    candidates: tuple[str, ...] = ("Incumbent", "Challenger A", "Challenger B", "Challenger C")
    base_shares: tuple[float, ...] = (0.45, 0.25, 0.18, 0.12)
    size_log_mean: float = 7.0  # lognormal registered voters (median ≈ 1,100)
    size_log_sd: float = 0.6
    tiny_share: float = 0.01  # share of tiny stations (hospitals, ships): 10–99 voters
    max_size: int = 6_000
    turnout_mean: float = 0.55
    turnout_region_sd: float = 0.30  # on the logit scale
    turnout_station_sd: float = 0.35
    share_region_sd: float = 0.25  # on the log-share scale
    share_station_sd: float = 0.25
    #: correlation between a region's turnout effect and the first candidate's (the incumbent's)
    #: regional share effect. Positive values make honest high-turnout regions also the
    #: incumbent's strongholds, the pattern that national Shpilkin and mixture estimates read as
    #: fraud (issue 16); 0 (default) keeps the two effects independent.
    region_correlation: float = 0.0
    #: the same correlation between stations of one region (honest town/country differences
    #: that tie turnout to support inside a region). Region-by-region methods read it as
    #: fraud; it is here to measure how much (docs/calibration.md, "Headline").
    station_correlation: float = 0.0
    invalid_rate: float = 0.015
    early_rate: float = 0.02
    mobile_rate: float = 0.06
    additional_rate: float = 0.02  # voters added on additional lists on the day (honestly)
    absentee_rate: float = 0.01  # voters with absentee certificates (honestly)

    def __post_init__(self) -> None:
        for name in ("n_stations", "n_regions", "n_constituencies"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} ({getattr(self, name)}) must be at least 1.")
        if len(self.candidates) < 2 or len(self.candidates) != len(self.base_shares):
            raise ValueError(
                f"candidates ({len(self.candidates)} names) and base_shares ({len(self.base_shares)} "
                "shares) must have the same length, at least 2."
            )
        if min(self.base_shares) <= 0:
            raise ValueError(f"base_shares ({self.base_shares}) must all be positive.")
        if not 0 < self.turnout_mean < 1:
            raise ValueError(f"turnout_mean ({self.turnout_mean}) must be in the interval (0, 1).")
        if self.n_constituencies < self.n_regions:
            raise ValueError(
                f"n_constituencies ({self.n_constituencies}) must be at least n_regions ({self.n_regions})."
            )
        for name in (
            "tiny_share",
            "invalid_rate",
            "early_rate",
            "mobile_rate",
            "additional_rate",
            "absentee_rate",
        ):
            _check_fraction(name, getattr(self, name))
        for name in (
            "size_log_sd",
            "turnout_region_sd",
            "turnout_station_sd",
            "share_region_sd",
            "share_station_sd",
        ):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"{name} ({getattr(self, name)}) must be in the interval [0, inf)."
                )
        for name in ("region_correlation", "station_correlation"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} ({getattr(self, name)}) must be in the interval [-1, 1].")
        if self.max_size < 100:
            raise ValueError(f"max_size ({self.max_size}) must be at least 100.")
