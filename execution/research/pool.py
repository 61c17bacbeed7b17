"""Where backtests run: this process, local worker processes, or a Dask distributed cluster.

All three answer `map(jobs) -> results in job order`, so a study's results do not depend on
where its backtests ran. Local workers are started with `spawn` (a clean interpreter: no
inherited threads or open SQLite handles) and keep the market they read between jobs. Dask
workers must import this project (start them from the checkout, or with it on PYTHONPATH) and
see the market and config directories at the same paths.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from execution.research.backtest import BacktestResult, Job, run_job


class Pool(Protocol):
    name: str
    workers: int

    def map(self, jobs: Sequence[Job]) -> list[BacktestResult]: ...

    def close(self) -> None: ...


class InProcess:
    name = "in-process"
    workers = 1

    def map(self, jobs: Sequence[Job]) -> list[BacktestResult]:
        return [run_job(j) for j in jobs]

    def close(self) -> None:
        return None


class LocalProcesses:
    def __init__(self, workers: int):
        self.workers = workers
        self.name = f"{workers} local processes"
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def map(self, jobs: Sequence[Job]) -> list[BacktestResult]:
        return list(self._pool.map(run_job, jobs))

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class DaskCluster:
    """Backtests as Dask tasks (`pure=False`: a job is run even if an equal one ran before)."""

    def __init__(self, address: str, timeout_s: float = 30):
        from distributed import Client

        self._client: Any = Client(address, timeout=timeout_s)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        self.name = f"Dask cluster {address} ({self.workers} workers)"

    def map(self, jobs: Sequence[Job]) -> list[BacktestResult]:
        futures = self._client.map(run_job, list(jobs), pure=False)
        return list(self._client.gather(futures))

    def close(self) -> None:
        self._client.close()


def open_pool(workers: int, scheduler: str | None) -> Pool:
    if scheduler:
        return DaskCluster(scheduler)
    if workers <= 1:
        return InProcess()
    return LocalProcesses(workers)
