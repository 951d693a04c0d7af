"""Structured logs: one JSON object per line, access log with observers' addresses truncated.

An access log is a list of who connected when: seized with the server, it can place observers.
By default (``POLLWATCH_ACCESS_LOG=anonymised``) the client address is cut to its network
(IPv4 /24, IPv6 /48, as Google Analytics' IP anonymisation and the Matomo default do) and the
query string is dropped (it can carry tokens); ``full`` keeps both, ``off`` writes none.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "anonymise", "log_config"]


def anonymise(address: str) -> str:
    """``203.0.113.57`` → ``203.0.113.0/24``; IPv6 to its /48; anything else unchanged."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line; uvicorn's access records get named fields."""

    def __init__(self, access: str = "anonymised") -> None:
        super().__init__()
        self.access = access

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, http, status = args
            host, _, port = str(client).rpartition(":")
            path = str(path)
            if self.access != "full":
                host, path = anonymise(host.strip("[]")), path.split("?", 1)[0]
            out |= {"type": "access", "client": host, "method": method, "path": path, "http": http, "status": status}  # fmt: skip
        else:
            out["msg"] = record.getMessage()
            if record.exc_info:
                out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def log_config(level: str = "info", fmt: str = "json", access: str = "anonymised") -> dict:
    """A ``logging.config.dictConfig`` for uvicorn and pollwatch (``pollwatch serve`` passes it
    to uvicorn as ``log_config``)."""
    if access not in ("anonymised", "full", "off"):
        raise ValueError(f"access log ({access!r}) must be anonymised, full or off")
    formatter = (
        {"()": JsonFormatter, "access": access}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },  # fmt: skip
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.access": {
                "handlers": ["stderr"] if access != "off" else [],
                "level": "INFO" if access != "off" else "CRITICAL",
                "propagate": False,
            },  # fmt: skip
            "pollwatch": {"handlers": ["stderr"], "level": lvl, "propagate": False},
        },
    }
