"""Services: processes run on nodes, with per-node start/stop/clean/wait hooks."""

from ducttape.services.background import BackgroundThreadService
from ducttape.services.service import Service, ServiceError, run_parallel

__all__ = ["BackgroundThreadService", "Service", "ServiceError", "run_parallel"]
