"""Where evaluations run: in the driver (one worker), a local process pool, or Ray.

Each executor has `submit(fn, *args) -> concurrent.futures.Future` and `close()`. The driver
keeps the study; only `search.evaluate.evaluate_task` and its plain-data arguments travel.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing

from ir.errors import PimcError

__all__ = ["make_executor"]


class _Inline:
    """Evaluates in the driver when it is asked: one worker needs no second process."""

    def submit(self, fn, *args) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_result(fn(*args))
        return future

    def close(self) -> None:
        pass


class _Pool:
    def __init__(self, workers: int) -> None:
        # spawn: a forked child of a driver that already ran torch can hang in its thread pool
        self.pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn, *args) -> cf.Future:
        return self.pool.submit(fn, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Ray:
    """Ray tasks (one CPU each); connects to `address` unless Ray is already initialised
    in this process (a test's local instance, or the user's own `ray.init`)."""

    def __init__(self, address: str) -> None:
        try:
            import ray
        except ImportError:
            raise PimcError("--ray needs the ray package; accepted: pip install "
                            "'pimc[search]'") from None
        if not ray.is_initialized():
            ray.init(address=None if address == "local" else address,
                     ignore_reinit_error=True, log_to_driver=False)
        self.ray, self.remote = ray, {}

    def submit(self, fn, *args) -> cf.Future:
        if fn not in self.remote:
            self.remote[fn] = self.ray.remote(num_cpus=1, max_retries=1)(fn)
        return self.remote[fn].remote(*args).future()

    def close(self) -> None:
        pass  # the cluster belongs to whoever started it


def make_executor(workers: int, ray: str | None = None):
    """An executor for `workers` evaluations at a time (`ray`: an address, auto, or local)."""
    if workers < 1:
        raise PimcError(f"--workers {workers}; accepted: 1 or more")
    if ray:
        return _Ray(ray)
    return _Inline() if workers == 1 else _Pool(workers)
