"""sipredirect-migrate as a command: what it writes, the report, and the
exit status with one clear line for each kind of bad input."""

from pathlib import Path

import pytest

from sipredirect.config import load_config
from sipredirect.migrate.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "migrate"


def test_help_explains_usage(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    for word in ("--dns", "--access-code", "--report", "number,type,options,use-override",
                 "65 bad input"):
        assert word in text


def test_writes_ini_and_report_files(tmp_path, capsys):
    out, report = tmp_path / "s.ini", tmp_path / "report.txt"
    status = main([str(DATA / "nss-app.cfg"), "--dns", str(DATA / "nss-dns.csv"),
                   "--access-code", "premise1=ERP1", "-o", str(out), "--report", str(report)])
    assert status == 0
    assert capsys.readouterr().err == ""
    assert load_config(str(out)).call_model.access_codes == {"premise1": "ERP1"}
    lines = report.read_text().splitlines()
    assert lines[0] == ("sipredirect-migrate: wrote %s (options: 16, routing points: 2, DNs: 3, "
                        "trunks among them: 2, access codes: 1, INVITE element mappings: 1); "
                        "not carried over as written: 15" % out)
    assert any(line.endswith("[TServer] management-port=7011: ignored: the T-Server port "
                             "for Solution Control Server; the [management] endpoint serves "
                             "health, metrics and control here") for line in lines)
    assert any("DN 7100 (ACD Queue): not mapped: no contact" in line for line in lines)
    # Not overwritten without --force.
    assert main([str(DATA / "nss-app.cfg"), "-o", str(out)]) == 73
    assert "exists (--force overwrites it)" in capsys.readouterr().err
    assert main([str(DATA / "nss-app.cfg"), "-o", str(out), "--force"]) == 0


def test_standard_output_and_report_on_standard_error(capsys):
    assert main([str(DATA / "nss-app.cfg")]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("; sipredirect configuration written by sipredirect-migrate")
    assert "not carried over" in captured.err.splitlines()[0]


@pytest.mark.parametrize("files, status, message", [
    ({"app.cfg": b"[TServer]\nsip-port=5060\n[Annex]\nx=1\n"}, 65,
     "app.cfg, line 3: unknown section [Annex]"),
    ({"app.cfg": b"[TServer]\nsip-port 5060\n"}, 65, "app.cfg, line 2: cannot read"),
    ({"app.cfg": b"[TServer]\ncustomer-id=\xff\n"}, 65, "app.cfg, line 2: not UTF-8 text"),
    ({"app.cfg": b"[TServer]\nsip-port=5060\n", "dns.csv": b"number,kind\n1,x\n"}, 65,
     "dns.csv, line 1: unknown column 'kind'"),
    ({"app.cfg": b"[TServer]\nsip-port=5060\n",
      "dns.csv": b"number,type\n8001,Routing Point,x\n"}, 65,
     "dns.csv, line 2: 3 fields where the first row names 2 columns"),
    ({}, 66, "app.cfg: cannot read the file"),
])
def test_bad_input_is_one_line_and_a_documented_status(tmp_path, capsys, files, status,
                                                       message):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv = [str(tmp_path / "app.cfg")]
    if "dns.csv" in files:
        argv += ["--dns", str(tmp_path / "dns.csv")]
    assert main(argv + ["-o", str(tmp_path / "out.ini")]) == status
    err = capsys.readouterr().err
    assert err.startswith("sipredirect-migrate: %s/%s" % (tmp_path, message))
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out.ini").exists()


def test_a_bad_access_code_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main([str(DATA / "nss-app.cfg"), "--access-code", "premise1"])
    assert caught.value.code == 2
    assert "'premise1' is not SWITCH=CODE" in capsys.readouterr().err
