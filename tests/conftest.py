from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root():
    return REPO


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free loopback port, stopped afterwards."""
    from redis_process import RedisServer
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
