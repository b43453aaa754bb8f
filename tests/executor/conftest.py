"""Fixtures of the Celery tests: a Redis broker and workers that are always stopped afterwards."""

from __future__ import annotations

import pytest

from tests.executor.cluster import REDIS_SERVER, RedisServer, Worker


class Cluster:
    """One broker and the workers a test starts; ``close`` kills them all (the fixture's finalizer)."""

    def __init__(self, folder):
        self.folder = folder
        self.redis = RedisServer(folder / "redis")
        self.workers: list[Worker] = []
        self.others = []  # other processes the test started (coordinators)

    @property
    def broker(self) -> str:
        return self.redis.url

    def worker(self, name: str, course, concurrency: int = 1, **kw) -> Worker:
        worker = Worker(self.folder / f"machine-{name}", name, self.broker, course, concurrency, **kw)
        self.workers.append(worker)
        worker.start()
        return worker

    def close(self) -> None:
        from tests.processes import kill_tree

        for proc in self.others:
            if proc.poll() is None:
                kill_tree(proc)
        for worker in self.workers:
            worker.kill()
        self.redis.stop()


@pytest.fixture
def cluster(tmp_path_factory, request):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server); the Celery tests need a real broker")
    found = Cluster(tmp_path_factory.mktemp("cluster"))
    request.addfinalizer(found.close)
    found.redis.start()
    return found
