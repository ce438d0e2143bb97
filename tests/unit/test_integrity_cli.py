"""Issue 10, points 10-12 without a flow: configuration errors are one line and exit 2 (checked before any flow
starts), the CSV writers neutralise formula-like text, the pseudonym key rules."""

from __future__ import annotations

import csv
import os
import socket
from pathlib import Path

import duckdb
import pytest

from bcf.cli import main
from bcf.core.settings import PseudonymKeyError, pseudonym_key
from bcf.returns.pack import write_findings
from bcf.transforms.findings import Finding
from bcf.transforms.workbook import csv_safe
from bcf.warehouse import return_findings
from tests.fixtures import HWB, write_df_fixture


def one_line_error(capsys: pytest.CaptureFixture[str], code: int, contains: str) -> str:
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, err
    assert "Traceback" not in err + captured.out
    assert err.startswith("bcf: ") and err.count("\n") == 1, err
    assert contains in err, err
    return err


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return write_df_fixture(tmp_path / "src")


def run_df(src: Path, tmp_path: Path, *extra: str, period_end: str = "2023-01-19") -> list[str]:
    return ["run", "fortnightly", "--source", str(src), "--hwb", HWB, "--period-end", period_end,
            "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data"), *extra]


# --- point 11: configuration errors -------------------------------------------------------------------------------

def test_out_pointing_at_a_file(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out").write_text("not a folder")
    one_line_error(capsys, main(run_df(src, tmp_path)), f"--out {tmp_path / 'out'}: {tmp_path / 'out'} is a file")


def test_data_dir_pointing_at_a_file(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").write_text("not a folder")
    one_line_error(capsys, main(run_df(src, tmp_path)), "--data-dir")
    (tmp_path / "data").unlink()
    (tmp_path / "file").write_text("x")  # a parent that is a file
    args = run_df(src, tmp_path)
    args[args.index("--data-dir") + 1] = str(tmp_path / "file" / "data")
    one_line_error(capsys, main(args), "is a file, not a folder")


def test_a_date_out_of_range(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(capsys, main(run_df(src, tmp_path, period_end="0001-01-04")),
                   "--period-end 0001-01-04: out of range")
    one_line_error(capsys, main(["backfill", "--source", str(src), "--hwb", HWB, "--from", "0001-01-01", "--to",
                                 "0001-02-01", "--data-dir", str(tmp_path / "data")]), "out of range")
    assert not (tmp_path / "data").exists()  # nothing started


def test_cellmap_with_a_quarter_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_template import make_template

    template = make_template(tmp_path / "template.xlsx")
    one_line_error(capsys, main(["cellmap", str(template), "--quarter", "2023-24-Q9"]),
                   "not a quarter like 2023-24-Q3: 2023-24-Q9")
    one_line_error(capsys, main(["run", "icb", "--source", str(tmp_path), "--icb", "QK1", "--quarter", "2023-24-Q9",
                                 "--data-dir", str(tmp_path / "d")]), "not a quarter like")


def test_a_missing_source_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(capsys, main(run_df(tmp_path / "nowhere", tmp_path)),
                   f"source folder {tmp_path / 'nowhere'} does not exist")
    one_line_error(capsys, main(["validate", "--source", str(tmp_path / "nowhere")]), "does not exist")
    one_line_error(capsys, main(["ingest", "--source", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "d")]),
                   "does not exist")


def test_a_template_that_is_not_xlsx(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "template.xlsx"
    template.write_text("Quarter,Figure\nQ3,1\n")
    args = ["run", "quarterly", "--source", str(src), "--hwb", HWB, "--quarter", "2022-23-Q4", "--template",
            str(template), "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")]
    one_line_error(capsys, main(args), f"template {template} is not an XLSX workbook")
    one_line_error(capsys, main(["cellmap", str(template)]), "is not an XLSX workbook")


def _no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _refused_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens: connection refused


def test_s3_without_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    _no_aws_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", _refused_endpoint())
    # credentials an earlier use cached in boto3's default session do not hide that there are none now
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.session.Session(aws_access_key_id="cached",
                                                                        aws_secret_access_key="cached"))
    one_line_error(capsys, main(["validate", "--source", "s3://extracts/rutland/"]), "no AWS credentials for S3")


def test_s3_endpoint_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = _refused_endpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    one_line_error(capsys, main(["ingest", "--source", "s3://extracts/rutland/", "--data-dir", str(tmp_path / "d")]),
                   f"cannot reach the S3 endpoint {endpoint}")


def test_a_bad_lock_timeout(src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BCF_LOCK_TIMEOUT", "soon")
    one_line_error(capsys, main(run_df(src, tmp_path)), "BCF_LOCK_TIMEOUT must be a number of seconds")


# --- point 12: the pseudonym key ----------------------------------------------------------------------------------

def test_a_short_pseudonym_key_is_refused(src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BCF_PSEUDONYM_KEY", "x" * 31)
    with pytest.raises(PseudonymKeyError, match="31 characters long; a pseudonym key needs at least 32"):
        pseudonym_key()
    err = one_line_error(capsys, main(run_df(src, tmp_path, "--allow-development-key")), "31 characters long")
    assert "x" * 31 not in err  # the key itself is never echoed
    monkeypatch.setenv("BCF_PSEUDONYM_KEY", "k0123456789abcdef" * 2)  # issue 21: one repeated character is weak
    assert pseudonym_key() == (b"k0123456789abcdef" * 2, False)


def test_the_development_key_needs_leave(src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BCF_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("BCF_ALLOW_DEVELOPMENT_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="BCF_PSEUDONYM_KEY is not set"):
        pseudonym_key()
    for args in (run_df(src, tmp_path), ["validate", "--source", str(src)],
                 ["ingest", "--source", str(src), "--data-dir", str(tmp_path / "d")]):
        one_line_error(capsys, main(args), "--allow-development-key")
    assert not (tmp_path / "data").exists() and not (tmp_path / "out").exists()
    # a recorded development-key run can be rebuilt (bcf reproduce) without new leave
    assert pseudonym_key("development")[1] is True
    monkeypatch.setenv("BCF_ALLOW_DEVELOPMENT_KEY", "1")
    assert pseudonym_key()[1] is True


def test_the_allow_flag_sets_leave_for_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BCF_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("BCF_ALLOW_DEVELOPMENT_KEY", raising=False)
    # the key check passes with the flag; the run then stops at the next check (the missing source), before a flow
    one_line_error(capsys, main(["validate", "--allow-development-key", "--source", str(tmp_path / "none")]),
                   "does not exist")
    assert os.environ["BCF_ALLOW_DEVELOPMENT_KEY"] == "1"


# --- point 10: CSV outputs safe to open ---------------------------------------------------------------------------

def test_csv_safe_neutralises_formulas_and_keeps_numbers() -> None:
    assert csv_safe('=HYPERLINK("http://evil.example","x")') == '\'=HYPERLINK("http://evil.example","x")'
    for text in ("+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "-"):
        assert csv_safe(text) == "'" + text
    for kept in ("-12.50", "+3", "-0.5", "12.50", "1e3", "RWE:S1", "", "'=already"):
        assert csv_safe(kept) == kept
    assert csv_safe(-12.5) == -12.5 and csv_safe(None) is None and csv_safe(7) == 7


def test_findings_csv_writer_neutralises(tmp_path: Path) -> None:
    findings = [Finding("error", "spend_x.csv", 2, "scheme_id", '=HYPERLINK("http://evil.example","x")', "code_set",
                        "not a scheme"),
                Finding("error", "spend_x.csv", 3, "amount", "-12.50", "decimal", "amount out of range"),
                Finding("warning", "=evil.csv", None, None, None, "file.x", "@message")]
    con = duckdb.connect()
    return_findings.create(con)
    return_findings.add(con, findings)
    write_findings(con, tmp_path / "findings.csv", return_findings.report(con))
    with open(tmp_path / "findings.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["value"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1]["value"] == "-12.50"
    assert (rows[2]["file"], rows[2]["message"]) == ("'=evil.csv", "'@message")
