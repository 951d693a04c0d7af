"""Login throttling: failed logins per account, per client address and per both, with an
exponential backoff answered by 429 and ``Retry-After``.

Three counters are kept for each failed login (``LoginThrottle.attempt`` counts every attempt
before the password is checked, ``succeeded`` refunds a right one):

* the pair (account, address): ``login_free_failures`` failures (5) are free, then each further
  one locks the pair for 1, 2, 4... seconds up to ``login_max_backoff`` (15 min): one guesser at
  one address gets a few hundred guesses a day at most;
* the account from any address: ``login_account_failures`` (20) free, then the same backoff, so
  a guesser spreading over many addresses is slowed as well;
* the address, any account: ``login_address_failures`` (50) free (observers behind one carrier
  NAT share addresses), then the backoff, against one address trying many accounts.

While any of the three is locked the login answers 429 before the password is checked, so the
right password does not get in either. A counter forgets its failures after ``window`` seconds
without one; a successful login clears its pair and refunds only its own attempt to the
account's and the address's counters (clearing them would let a guesser reset the address's
count by logging into an account of their own). Unknown usernames are counted as if they
existed, so the answers do not tell which accounts exist.

The state lives in this process (a dict bounded to ``max_keys`` entries): with N uvicorn
workers an attacker gets at most N times the budget (requests are spread over the workers), and
a restart forgets. Accepted for now; a shared table would cost a write on every failed login.

The client address is the socket's peer, or, when the peer is one of ``trusted_proxies``, the
right-most ``X-Forwarded-For`` entry that is not a trusted proxy (never the header otherwise:
anyone can send it).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from starlette.requests import Request

from pollwatch.service.config import Settings


class TooManyAttempts(Exception):
    """Locked: answer 429 with ``Retry-After: retry_after`` (whole seconds)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many failed logins; try again later")
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass
class _Counter:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """The three counters of failed logins (see the module doc)."""

    def __init__(
        self,
        *,
        free: int = 5,
        account_free: int = 20,
        address_free: int = 50,
        max_backoff: float = 900.0,
        window: float = 3600.0,
        max_keys: int = 100_000,
        clock=time.monotonic,
    ) -> None:
        self._free = {"pair": free, "account": account_free, "address": address_free}
        self._max_backoff = max_backoff
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._counters: dict[tuple, _Counter] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            free=settings.login_free_failures,
            account_free=settings.login_account_failures,
            address_free=settings.login_address_failures,
            max_backoff=settings.login_max_backoff,
        )

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple]:
        account = username.strip().lower()
        return [("pair", account, address), ("account", account), ("address", address)]

    def attempt(self, username: str, address: str) -> None:
        """Raise ``TooManyAttempts`` while any counter of this login is locked; else count the
        attempt as a failure at once (so parallel guesses cannot all pass the check before the
        first one fails), to be refunded by ``succeeded``."""
        now = self._clock()
        keys = self._keys(username, address)
        with self._lock:
            wait = max(
                (c.locked_until - now for k in keys if (c := self._counters.get(k)) is not None),
                default=0.0,
            )
            if wait > 0:
                raise TooManyAttempts(wait)
            if len(self._counters) >= self._max_keys:
                self._evict(now)
            for key in keys:
                c = self._counters.setdefault(key, _Counter())
                if now - c.last > self._window:
                    c.failures = 0
                c.failures += 1
                c.last = now
                over = c.failures - self._free[key[0]]
                if over > 0:
                    c.locked_until = now + min(self._max_backoff, 2.0 ** min(over - 1, 30))

    def succeeded(self, username: str, address: str) -> None:
        """The attempt was right: forget the pair, refund the account's and address's count."""
        pair, *others = self._keys(username, address)
        with self._lock:
            self._counters.pop(pair, None)
            for key in others:
                c = self._counters.get(key)
                if c is not None and c.failures > 0:
                    c.failures -= 1
                    if c.failures <= self._free[key[0]]:
                        c.locked_until = 0.0

    def _evict(self, now: float) -> None:
        """Forget counters past their window, then (still full) the oldest half."""
        stale = [k for k, c in self._counters.items() if now - c.last > self._window]
        for k in stale:
            del self._counters[k]
        if len(self._counters) >= self._max_keys:
            by_age = sorted(self._counters, key=lambda k: self._counters[k].last)
            for k in by_age[: len(by_age) // 2]:
                del self._counters[k]


def client_address(request: Request, settings: Settings) -> str:
    """The client's address (see the module doc for proxies)."""
    peer = request.client.host if request.client else ""
    trusted = settings.trusted_proxies
    if not trusted or peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return peer


def guard(request: Request, username: str) -> None:
    """Raise ``TooManyAttempts`` if this login is locked, else count it (the app's
    ``state.throttle``); call ``succeeded`` once the password was right."""
    request.app.state.throttle.attempt(
        username, client_address(request, request.app.state.settings)
    )


def succeeded(request: Request, username: str) -> None:
    request.app.state.throttle.succeeded(
        username, client_address(request, request.app.state.settings)
    )
