import pytest

from harness import ServerProcess


@pytest.fixture
def server_factory(tmp_path):
    """Start servers with given settings; all are stopped at teardown."""
    started = []

    def start(settings="", **kwargs):
        workdir = tmp_path / ("server%d" % len(started))
        workdir.mkdir()
        server = ServerProcess(workdir, settings, **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
