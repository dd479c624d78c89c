"""How the bench report writes its figures."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import max_rate as mr  # noqa: E402


def test_latencies_are_written_without_float_noise():
    assert mr.fmt_ms(80.00100000000001) == "80 ms"
    assert mr.fmt_ms(4.0) == "4 ms"
    assert mr.fmt_ms(0.5) == "0.5 ms"
    assert mr.fmt_ms(1234.56) == "1234.6 ms"
    assert mr.fmt_ms(0) == "<1 ms"
    assert mr.fmt_ms(0.01) == "<1 ms"
    assert mr.fmt_ms(None) == "n/a"
