"""Services: processes run on nodes, with per-node start/stop/clean/wait hooks."""

from ducttape.services.background import BackgroundThreadService
from ducttape.services.service import (
    CAUSE_LINES,
    DEFAULT_WAIT_TIMEOUT,
    STOP_TIMEOUT,
    Service,
    ServiceError,
    run_parallel,
)

__all__ = [
    "CAUSE_LINES",
    "DEFAULT_WAIT_TIMEOUT",
    "STOP_TIMEOUT",
    "BackgroundThreadService",
    "Service",
    "ServiceError",
    "run_parallel",
]
