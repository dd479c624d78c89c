"""A flood at five times the measured capacity (bench/results/latest.md:
1400 calls/s through the router link, 1600 embedded; 5 x 1600 = 8000
INVITEs/s from SIPp): the server answers 302 what it can route, 503 with
Retry-After past max-pending-routes, lets the kernel drop what it cannot
read, keeps its memory bounded, and serves normal load again within 5 s
of the flood's end."""

import csv
import time

from harness import RouterProcess, free_port, run_sipp

# The router takes 200 ms a decision, as a URS running a strategy may: at
# the rate the server reads a flood, more than max-pending-routes calls then
# wait for it, and the excess is answered 503 at once.
RULES = ("[rule all]\nroute = sip:agent1@127.0.0.1:5070, sip:agent2@127.0.0.1:5071\n"
         "delay = 0.2\n")
FLOOD_RATE = 8000
FLOOD_SECONDS = 10


def vm_kib(pid, field):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def outcome_counts(workdir):
    """INVITEs sent and 302s / 503s received, from SIPp's -trace_counts."""
    (path,) = list(workdir.glob("*_counts.csv"))
    rows = list(csv.reader(path.open(), delimiter=";"))
    counts = dict(zip(rows[0], rows[-1]))
    return {"sent": int(counts["0_INVITE_Sent"]), "302": int(counts["2_302_Recv"]),
            "503": int(counts["3_503_Recv"])}


def test_flood_at_five_times_capacity(server_factory, tmp_path):
    router_port = free_port()
    server = server_factory(
        "default-routing-destinations = sip:fallback@127.0.0.1:5090\n"
        "max-pending-routes = 200\nudp-recvbuf = 4194304\n",
        routing_points="8001 =\n",
        extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n" % router_port)
    router = RouterProcess(tmp_path / "router", ["tcp:127.0.0.1:%d" % router_port],
                           RULES).start()
    try:
        pid = server.process.pid
        # No retransmissions (-nr): a flood, not a gateway; SIPp stops
        # FLOOD_SECONDS + 8 s after the start whatever is still waiting.
        run_sipp(tmp_path / "flood", "uac_flood.xml", server.port,
                 calls=FLOOD_RATE * FLOOD_SECONDS, rate=FLOOD_RATE,
                 extra=["-nr", "-trace_counts"], timeout=FLOOD_SECONDS + 8)
        flood_end = time.monotonic()
        counts = outcome_counts(tmp_path / "flood")
        peak_kib = vm_kib(pid, "VmHWM")
        print("flood of %(sent)d INVITEs: %(302)d answered 302, %(503)d answered 503, the "
              "rest dropped unread by the kernel" % counts)
        print("server peak RSS (VmHWM): %.1f MiB" % (peak_kib / 1024.0))
        assert server.process.poll() is None, "the server died in the flood"
        time.sleep(max(0.0, 5.0 - (time.monotonic() - flood_end)))
        after = run_sipp(tmp_path / "after", "uac_redirect.xml", server.port,
                         calls=500, rate=100)
    finally:
        router.stop()
    assert counts["sent"] == FLOOD_RATE * FLOOD_SECONDS
    assert counts["302"] > 0 and counts["503"] > 0, counts
    assert peak_kib < 512 * 1024, "peak RSS %d KiB" % peak_kib
    log = server.log()
    assert "Traceback" not in log and "internal error" not in log
    assert "calls wait for a route (max-pending-routes); answering new INVITEs 503" in log
    # Normal load from 5 s after the flood: every call answered 302.
    assert (after.successful, after.failed, after.unexpected) == (500, 0, 0), \
        after.summary()
