"""The example configuration under steady load: 200 calls/s for 30 s."""

import pytest

from harness import REPO, run_sipp


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_200_calls_per_second_for_30_seconds_on_etc_primary(server_factory, tmp_path,
                                                             transport):
    config = (REPO / "etc" / "primary.ini").read_text()
    server = server_factory(config_text=config)
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=6000,
                      rate=200, transport=transport)
    assert result.returncode == 0, result.summary()
    assert result.successful == 6000, result.summary()
    assert result.failed == 0 and result.unexpected == 0, result.summary()
    assert result.retransmissions == 0, result.summary()
    assert "Traceback" not in server.log()
