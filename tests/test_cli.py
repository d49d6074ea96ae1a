"""The ``cds`` command line: readable summary, stable JSON keys, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cds.cli import main
from cds.clinical.notes import RULES_VERSION
from cds.render.messages import messages

FIXTURES = Path(__file__).resolve().parents[1] / "fhir_fixtures"
ELIGIBLE = FIXTURES / "nct00919009_eligible.json"

STABLE_KEYS = [
    ("child_pugh", "score"),
    ("child_pugh", "score_range"),
    ("child_pugh", "class"),
    ("child_pugh", "points"),
    ("albi", "score"),
    ("albi", "grade"),
    ("bclc", "stage"),
    ("tnm", "ajcc8"),
    ("tnm", "muicc"),
    ("eligibility", "NCT00919009"),
    ("recommendation", "option"),
    ("recommendation", "reasons"),
]


def test_json_has_the_stable_keys(capsys):
    """``--json`` prints every documented key."""
    assert main(["assess", str(ELIGIBLE), "--json", "--as-of", "2026-11-15"]) == 0
    result = json.loads(capsys.readouterr().out)
    for section, key in STABLE_KEYS:
        assert key in result[section]
    assert set(result["child_pugh"]["points"]) == {
        "bilirubin",
        "albumin",
        "inr",
        "ascites",
        "encephalopathy",
    }
    assert set(result["tnm"]["ajcc8"]) >= {"t", "n", "m", "stage"}
    assert set(result["tnm"]["muicc"]) >= {"t", "stage"}
    criterion = result["eligibility"]["NCT00919009"]["criteria"][0]
    assert {"id", "kind", "judged_by", "source_text", "label", "status", "reason"} <= set(criterion)
    assert {"code", "params", "text"} <= set(criterion["reason"])
    assert isinstance(result["missing"], list)
    assert result["schema_version"] == 2
    assert result["rules_version"] == RULES_VERSION


def test_summary_shows_values_dates_and_recommendation(capsys):
    """The readable summary names the recommendation, each score and the values behind them."""
    assert main(["assess", str(ELIGIBLE), "--as-of", "2026-11-15"]) == 0
    out = capsys.readouterr().out
    t = messages("en").text
    assert f"{t('text.recommendation')}: {t('option.tace')}" in out
    assert f"{t('text.child-pugh')}: {t('key.child-pugh', score=5, cls='A')}" in out
    assert "2026-11-13" in out  # the dates of the labs behind the score
    assert f"{t('text.trial')} NCT00919009: {t('overall.eligible')}" in out
    assert RULES_VERSION in out


def test_summary_lists_what_is_missing(capsys):
    """A patient with stale labs gets a MISSING OR STALE section naming them."""
    assert main(["assess", str(FIXTURES / "stale_labs.json"), "--as-of", "2026-11-15"]) == 0
    out = capsys.readouterr().out
    t = messages("en").text
    assert t("text.gaps") in out
    stale = t("lab-state.stale")
    assert sum(line.endswith(f"** {stale}") for line in out.splitlines()) == 9


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "no Patient"),
        (b'{"hello": "world"}', "neither a FHIR Bundle"),
        (b"\xff\xfe", "is not JSON"),
    ],
)
def test_unreadable_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    """Unreadable input: exit code 2 and a one-line error, never a traceback."""
    path = tmp_path / "input.json"
    path.write_bytes(content)
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path, capsys):
    """A file that does not exist is a clean error too."""
    assert main(["assess", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_console_script_runs_the_demo():
    """The installed ``cds`` entry point assesses the built-in demo patient."""
    cds = Path(sys.executable).with_name("cds")
    done = subprocess.run(
        [str(cds), "demo", "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["recommendation"]["option"] == "tace"


def test_a_reader_that_stops_reading_gets_no_traceback():
    """`cds assess DIR --json | head -1`: the closed pipe ends the command quietly (exit 141, as
    SIGPIPE would), with no traceback on stderr."""
    cds = Path(sys.executable).with_name("cds")
    command = [str(cds), "assess", str(FIXTURES), "--json", "--as-of", "2026-11-15"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # a batch writes far more than a pipe buffer holds
        assert process.wait(timeout=120) == 141
        assert b"Traceback" not in process.stderr.read()


def test_several_files_and_a_directory_give_one_json_line_per_patient(capsys, tmp_path):
    """Files and directories: one JSON line per patient, each naming its input."""
    (tmp_path / "a.json").write_text(ELIGIBLE.read_text())
    (tmp_path / "notes.json").write_text('{"note": "not a patient"}')
    child_pugh_c = FIXTURES / "child_pugh_c.json"
    code = main(["assess", str(tmp_path), str(child_pugh_c), "--json", "--as-of", "2026-11-15"])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 0
    assert [(r["input"], r["child_pugh"]["class"]) for r in lines] == [
        (str(tmp_path / "a.json"), "A"),
        (str(child_pugh_c), "C"),
    ]
    assert "skipped" in captured.err and "notes.json" in captured.err


def test_a_bad_file_in_a_batch_is_reported_and_the_others_still_run(capsys, tmp_path):
    """An unreadable input: an error line for it, the other patients assessed, exit 2."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code = main(["assess", str(bad), str(ELIGIBLE), "--json", "--as-of", "2026-11-15"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2
    assert lines[0]["input"] == str(bad) and "not JSON" in lines[0]["error"]
    assert lines[1]["recommendation"]["option"] == "tace"


def test_batch_text_heads_each_patient_with_its_file(capsys):
    """Without --json, each summary is headed by its file."""
    child_pugh_c = FIXTURES / "child_pugh_c.json"
    assert main(["assess", str(ELIGIBLE), str(child_pugh_c), "--as-of", "2026-11-15"]) == 0
    out = capsys.readouterr().out
    assert out.index(f"=== {ELIGIBLE}") < out.index(f"=== {child_pugh_c}")
    assert out.count("RECOMMENDATION:") == 2


def test_load_fixtures_reports_an_unreachable_server(capsys):
    """No FHIR server at the URL: exit 2 with a one-line error naming the file."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    code = main(["load-fixtures", "--fhir-server", f"http://127.0.0.1:{port}/fhir", str(ELIGIBLE)])
    assert code == 2
    err = capsys.readouterr().err
    assert "could not be reached" in err and "nct00919009_eligible.json" in err


def test_hook_request_needs_one_patient(capsys, tmp_path):
    """A Bundle without a Patient cannot become a hook request: exit 2."""
    bundle = tmp_path / "b.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}')
    assert main(["hook-request", str(bundle)]) == 2
    assert "0 Patients" in capsys.readouterr().err
