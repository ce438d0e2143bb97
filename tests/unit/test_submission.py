"""Issue 22: sign-off bound to the figures, delivery (SMTP with STARTTLS and AUTH on aiosmtpd, an outbox folder, an
S3 prefix on moto's server), the register, resubmissions, deadlines. Everything through `bcf` itself (bcf.cli.main),
no mocks: real servers on 127.0.0.1. The Prefect pause / resume is in tests/integration/test_submission_server.py."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from bcf.cli import main
from tests.fixtures import HWB, write_df_fixture
from tests.receivers import SecureSmtp, Webhook

# every test works on a return written by a whole run, and signing off reproduces it (a whole ingest again)
pytestmark = pytest.mark.slow

STEM = f"df_fortnightly_{HWB}_2023-01-19"
SUBMIT_VARS = ("BCF_SUBMIT_TO", "BCF_SUBMIT_FROM", "BCF_SUBMIT_SMTP_HOST", "BCF_SUBMIT_SMTP_PORT",
               "BCF_SUBMIT_SMTP_STARTTLS", "BCF_SUBMIT_SMTP_USER", "BCF_SUBMIT_SMTP_PASSWORD", "BCF_SUBMIT_OUTBOX")


def _run(src: Path, out: Path, data: Path) -> int:
    return main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19", "--out",
                 str(out), "--data-dir", str(data)])


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCF_ORCHESTRATION", "local")
    for name in (*SUBMIT_VARS, "BCF_ALERT_WEBHOOK_URL", "BCF_ALERT_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fortnightly return of the hand-counted fixture, written once; each test works on its own copy."""
    import os

    base = tmp_path_factory.mktemp("written")
    saved = os.environ.get("BCF_ORCHESTRATION")
    os.environ["BCF_ORCHESTRATION"] = "local"
    try:
        assert _run(write_df_fixture(base / "src"), base / "out", base / "data") == 0
    finally:
        os.environ.pop("BCF_ORCHESTRATION") if saved is None else os.environ.update(BCF_ORCHESTRATION=saved)
    return base


@pytest.fixture
def ret(written: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(workbook, data dir): a copy of the written return and its register's warehouse for this test."""
    shutil.copytree(written / "out", tmp_path / "out")
    shutil.copytree(written / "data", tmp_path / "data")
    return tmp_path / "out" / f"{STEM}.xlsx", tmp_path / "data"


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecureSmtp]:
    server = SecureSmtp(tmp_path)
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    yield server
    server.close()


def signoff(workbook: Path, data: Path, *extra: str) -> int:
    return main(["signoff", str(workbook), "--by", "Jane Smith", "--role", "Director of Adult Social Care",
                 "--on", "2023-01-20", "--data-dir", str(data), *extra])


def submit(workbook: Path, data: Path, *extra: str) -> int:
    return main(["submit", str(workbook), "--data-dir", str(data), *extra])


def register(data: Path) -> list[dict[str, object]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM submission_register ORDER BY coalesce(sent_at, signed_off_at)")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def attachment(raw: bytes) -> tuple[email.message.EmailMessage, bytes]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    part = next(p for p in message.iter_attachments())
    payload = part.get_content()
    assert isinstance(payload, bytes)
    return message, payload


def figure_cell(workbook: Path, figure_id: str) -> tuple[str, str]:
    manifest = json.loads((workbook.with_name(workbook.stem + ".audit") / "manifest.json").read_text())
    f = next(f for f in manifest["figures"] if f["figure_id"] == figure_id)
    return f["sheet"], f["cell"]


def edit(workbook: Path, sheet: str, cell: str, value: object) -> None:
    book = load_workbook(workbook)
    book[sheet][cell] = value
    book.save(workbook)


def test_signed_off_return_goes_by_smtp_with_starttls_and_auth_once_unless_resent(
        ret: tuple[Path, Path], smtp: SecureSmtp, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook, data = ret
    original = workbook.read_bytes()
    (tmp_path / "narrative.txt").write_text("Pathway 3 placements fell: two care homes closed to admissions.\n")
    assert submit(workbook, data) == 1  # not signed off yet
    assert "is not signed off" in capsys.readouterr().err
    assert signoff(workbook, data, "--narrative", str(tmp_path / "narrative.txt")) == 0
    assert submit(workbook, data) == 0
    assert len(smtp.messages) == 1 and smtp.logins == [(smtp.user, True)]
    message, sent = attachment(smtp.messages[0])
    assert "Rutland (E06000017) HWB: Discharge Fund fortnightly return, 06/01/2023 to 19/01/2023" in message["Subject"]
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "two care homes closed" in body and "Jane Smith, Director of Adult Social Care" in body
    rows = register(data)
    assert [r["event"] for r in rows] == ["signoff", "submission"]
    sub = rows[1]
    assert sub["file_sha256"] == hashlib.sha256(sent).hexdigest() and sub["transport"] == "smtp"
    assert sub["recipient"] == "national-bcf-team@example.org"
    assert sub["message_id"] == str(message["Message-ID"]).strip()
    # the copy sent carries the sign-off on its Cover; the original is untouched
    assert workbook.read_bytes() == original
    copy = next((workbook.with_name(STEM + ".audit") / "sent").rglob("*.xlsx"))
    assert copy.read_bytes() == sent
    cover = {r[0].value: r[1].value for r in load_workbook(copy)["Cover"].iter_rows(min_col=1, max_col=2)}
    assert cover["Signed off by (on behalf of the Health and Wellbeing Board)"] == \
        "Jane Smith, Director of Adult Social Care"
    assert str(cover["Date signed off"]).startswith("2023-01-20")
    pack = json.loads((workbook.with_name(STEM + ".audit") / "submission.json").read_text())
    assert [e["event"] for e in pack["register"]] == ["signoff", "submission"]

    capsys.readouterr()
    assert submit(workbook, data) == 0  # the same figures again: nothing sent, says when it went
    assert "was already sent on" in capsys.readouterr().out and len(smtp.messages) == 1
    assert submit(workbook, data, "--resend") == 0
    assert len(smtp.messages) == 2
    assert [(r["event"], r["resend"]) for r in register(data)] == [("signoff", False), ("submission", False),
                                                                  ("submission", True)]
    assert main(["submissions", "--hwb", HWB, "--data-dir", str(data)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [re.split(r"\s{2,}", line)[1] for line in listing[2:]] == ["signoff", "submission",
                                                                       "submission (resend)"]
    assert smtp.password not in "\n".join(listing)


def test_a_blocked_return_cannot_be_signed_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_df_fixture(tmp_path / "src")
    (src / "spend_x.csv").write_text("not,the,spend,header\n1,2,3,4\n")
    assert _run(src, tmp_path / "out", tmp_path / "data") == 1
    capsys.readouterr()
    assert signoff(tmp_path / "out" / f"{STEM}.xlsx", tmp_path / "data") == 1
    err = capsys.readouterr().err
    assert err.startswith("bcf: ") and "is blocked" in err and err.count("\n") == 1


def test_a_figure_edited_after_the_run_is_refused(ret: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    workbook, data = ret
    edit(workbook, *figure_cell(workbook, "df.discharges.total"), 6)
    assert signoff(workbook, data) == 1
    err = capsys.readouterr().err
    assert "no longer reproduce" in err and "df.discharges.total" in err
    assert register(data) == []


def test_an_impossible_date_is_a_usage_error(ret: tuple[Path, Path]) -> None:
    workbook, data = ret
    assert main(["signoff", str(workbook), "--by", "J", "--role", "R", "--on", "2023-02-30"]) == 2


def test_a_figure_changed_after_signoff_is_refused(ret: tuple[Path, Path], smtp: SecureSmtp,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    workbook, data = ret
    assert signoff(workbook, data) == 0
    edit(workbook, *figure_cell(workbook, "df.discharges.total"), 6)
    capsys.readouterr()
    assert submit(workbook, data) == 1
    assert "the figures changed since Jane Smith signed it off" in capsys.readouterr().err
    assert smtp.messages == [] and [r["event"] for r in register(data)] == ["signoff"]


def test_a_hand_signed_cover_still_reproduces_with_the_signoff_cells_apart(
        ret: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    workbook, _ = ret
    book = load_workbook(workbook)
    cover = book["Cover"]
    for row in cover.iter_rows(min_col=1, max_col=2):
        if row[0].value == "Signed off by (on behalf of the Health and Wellbeing Board)":
            row[1].value = "A. Officer"
        if row[0].value == "Contact (e-mail and telephone)":
            row[1].value = "a.officer@rutland.example.org 01572 000000"
    book.save(workbook)
    assert main(["reproduce", str(workbook)]) == 0
    out = capsys.readouterr().out
    assert "REPRODUCED: the same figures" in out and "signed_off_by at 'Cover'!B13" in out
    assert "contact at 'Cover'!B12" in out
    # a figure typed over is still caught, and named apart from the sign-off cells
    edit(workbook, *figure_cell(workbook, "df.discharges.total"), 6)
    assert main(["reproduce", str(workbook)]) == 1
    assert "NOT REPRODUCED" in capsys.readouterr().out


@pytest.mark.parametrize("fault", ["unreachable", "login"])
def test_a_failed_delivery_is_one_line_records_nothing_and_never_shows_the_password(
        ret: tuple[Path, Path], smtp: SecureSmtp, fault: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    workbook, data = ret
    assert signoff(workbook, data) == 0
    if fault == "unreachable":
        from tests.receivers import _free_port

        monkeypatch.setenv("BCF_SUBMIT_SMTP_PORT", str(_free_port()))  # nothing listens there
    else:
        monkeypatch.setenv("BCF_SUBMIT_SMTP_PASSWORD", "wrong-Pa55word-XYZ")
    password = "wrong-Pa55word-XYZ" if fault == "login" else smtp.password
    capsys.readouterr()
    assert submit(workbook, data) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("bcf: ") and captured.err.count("\n") == 1, captured.err
    assert ("refused the login" if fault == "login" else "cannot send the return through SMTP") in captured.err
    assert "nothing was sent or recorded" in captured.err
    assert password not in captured.err + captured.out and "Traceback" not in captured.err
    assert smtp.messages == [] and [r["event"] for r in register(data)] == ["signoff"]
    assert not (workbook.with_name(STEM + ".audit") / "sent").exists() or not any(
        (workbook.with_name(STEM + ".audit") / "sent").iterdir())


def test_the_s3_outbox_on_motos_server_gets_the_file_and_a_receipt(
        ret: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.receivers import _free_port

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        for k, v in {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                     "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-2",
                     "BCF_SUBMIT_OUTBOX": "s3://national-outbox/rutland/"}.items():
            monkeypatch.setenv(k, v)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="national-outbox", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        workbook, data = ret
        assert signoff(workbook, data) == 0
        assert submit(workbook, data) == 0
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="national-outbox")["Contents"])
        assert len(keys) == 2 and keys[0].endswith(f"{STEM}.xlsx") and keys[1].endswith(".receipt.json")
        body = s3.get_object(Bucket="national-outbox", Key=keys[0])["Body"].read()
        receipt = json.loads(s3.get_object(Bucket="national-outbox", Key=keys[1])["Body"].read())
        sub = register(data)[-1]
        assert sub["transport"] == "outbox-s3" and sub["recipient"] == f"s3://national-outbox/{keys[0]}"
        assert hashlib.sha256(body).hexdigest() == sub["file_sha256"] == receipt["file_sha256"]
        assert receipt["signed_off_by"] == "Jane Smith" and "Discharge Fund fortnightly" in receipt["subject"]
    finally:
        server.stop()


def test_a_corrected_return_is_a_resubmission_naming_what_moved_since_what_was_sent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    outbox = tmp_path / "outbox"
    monkeypatch.setenv("BCF_SUBMIT_OUTBOX", str(outbox))
    src, out, data = write_df_fixture(tmp_path / "src"), tmp_path / "out", tmp_path / "data"
    workbook = out / f"{STEM}.xlsx"
    assert _run(src, out, data) == 0 and signoff(workbook, data) == 0 and submit(workbook, data) == 0
    rwe = src / "discharges_rwe.csv"
    lines = rwe.read_text().splitlines()
    lines[1] = lines[1].replace(",19,0,J18.9", ",19,1,J18.9")  # S1: pathway 0 -> 1 (a run nobody sends)
    rwe.write_text("\n".join(lines) + "\n")
    assert _run(src, out, data) == 0
    lines[2] = lines[2].replace(",19,1,J18.9", ",51,1,J18.9")  # S2: destination 19 -> 51
    rwe.write_text("\n".join(lines) + "\n")
    assert _run(src, out, data) == 0
    capsys.readouterr()
    assert submit(workbook, data) == 1  # the new figures are not signed off
    assert "figures changed since" in capsys.readouterr().err
    assert signoff(workbook, data) == 0 and submit(workbook, data) == 0
    said = capsys.readouterr().out
    assert "resubmitted" in said
    receipts = sorted(outbox.glob("*.receipt.json"), key=lambda p: p.stat().st_mtime)
    assert len(receipts) == 2
    second = json.loads(receipts[1].read_text())
    assert second["subject"].startswith("Resubmission: ")
    text = second["text"]
    # against what was sent (the first run), not the run before: both corrections are named
    for moved in ("df.discharges.pathway_0: 1 -> 0", "df.discharges.pathway_1: 1 -> 2",
                  "df.discharges.usual_residence: 3 -> 2"):
        assert moved in text
    assert "discharges_rwe.csv RWE:S1: changed" in text and "discharges_rwe.csv RWE:S2: changed" in text
    subs = [r for r in register(data) if r["event"] == "submission"]
    assert subs[1]["replaces"] == subs[0]["id"] and second["replaces"] == subs[0]["id"]
    # the latest run's own revisions.csv knows only the last correction
    assert "RWE:S1" not in (out / f"{STEM}.audit" / "revisions.csv").read_text()


def test_a_late_return_raises_the_alert_and_the_calendar_shows_states(
        ret: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    workbook, data = ret
    hook = Webhook()
    try:
        monkeypatch.setenv("BCF_ALERT_WEBHOOK_URL", hook.url)
        # due Friday 20 January 2023 17:00; at 18:00 it is late, awaiting sign-off
        args = ["calendar", "--hwb", HWB, "--out", str(workbook.parent), "--data-dir", str(data),
                "--fund-year", "2022-23", "--as-at", "2023-01-20T18:00", "--alert"]
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "Fri 20/01/2023 17:00  df      2023-01-19  late (awaiting sign-off)" in out
        assert "Fri 06/01/2023 17:00  df      2023-01-05  late (not produced)" in out
        assert "Fri 03/02/2023 17:00  df      2023-02-02  not produced" in out
        assert "Fri 03/02/2023 17:00  bcf     2022-23 Q3  not produced" in out
        late = [a for a in hook.received if a["status"] == "late"]
        assert any(a["period"] == "2023-01-19" and "not submitted" in a["reason"] for a in late)
        assert not any(a["period"] == "2023-02-02" for a in hook.received)  # due in two weeks: no alert yet
        # due within the configured 24 hours: a due-soon alert
        hook.received.clear()
        assert main([*args[:-3], "--as-at", "2023-02-02T18:00", "--alert"]) == 0
        assert [(a["status"], a["period"]) for a in hook.received if a["period"] == "2023-02-02"] == \
            [("due-soon", "2023-02-02")]
    finally:
        hook.close()


def test_a_template_return_carries_the_signoff_in_the_cells_its_map_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bcf.core.settings import config_dir
    from tests.templates import fortnightly_template

    monkeypatch.setenv("BCF_SUBMIT_OUTBOX", str(tmp_path / "outbox"))
    template = fortnightly_template(tmp_path / "DF template.xlsx", [("DF01", "Reablement beds"),
                                                                    ("DF02", "Bank holiday overtime")])
    cell_map = config_dir() / "cellmaps" / "df_fortnightly_2022-23.toml"  # proposed by bcf cellmap, with [signoff]
    assert '[signoff]\ncompleted_by = "Cover!C9"\nsigned_off = "Cover!C10"' in cell_map.read_text()
    src, out, data = write_df_fixture(tmp_path / "src"), tmp_path / "out", tmp_path / "data"
    assert main(["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", "2023-01-19",
                 "--template", str(template), "--cell-map", str(cell_map),
                 "--out", str(out), "--data-dir", str(data)]) == 0
    workbook = out / f"{STEM}.xlsx"
    book = load_workbook(workbook)
    book["Cover"]["C9"] = "A. Officer"  # typed by hand: a completion cell, not a figure
    book.save(workbook)
    capsys.readouterr()
    assert main(["reproduce", str(workbook)]) == 0
    assert "completed_by at 'Cover'!C9" in capsys.readouterr().out
    assert signoff(workbook, data) == 0 and submit(workbook, data) == 0
    copy = next((out / f"{STEM}.audit" / "sent").rglob("*.xlsx"))
    assert load_workbook(copy)["Cover"]["C10"].value == "Yes"
    assert load_workbook(workbook)["Cover"]["C10"].value is None  # the original as written


def test_a_signoff_date_outside_the_possible_and_an_nhs_number_in_the_narrative(
        ret: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook, data = ret
    assert main(["signoff", str(workbook), "--by", "J", "--role", "R", "--on", "2023-01-18",
                 "--data-dir", str(data)]) == 2  # before the fortnight ended
    assert "a sign-off date is after the period ends" in capsys.readouterr().err
    assert main(["signoff", str(workbook), "--by", "J", "--role", "R", "--on", "2999-01-01",
                 "--data-dir", str(data)]) == 2
    (tmp_path / "n.txt").write_text("Delay for patient 943 476 5919 explained to the team.\n")
    assert signoff(workbook, data, "--narrative", str(tmp_path / "n.txt")) == 0
    narrative = str(register(data)[0]["narrative"])
    assert "******5919" in narrative and "943 476" not in narrative
    assert "943 476" not in (workbook.with_name(STEM + ".audit") / "submission.json").read_text()
