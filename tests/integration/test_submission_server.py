"""Issue 22 on a real Prefect server (SQLite, 127.0.0.1) and a real SMTP server (aiosmtpd, STARTTLS and AUTH):
a deployment's run writes the return and pauses for sign-off; the sign-off goes in through Prefect's API as the UI's
form sends it; the run resumes, signs off and e-mails the return; the message's attachment is byte for byte the file
the register records. A second submit sends nothing; --resend sends again and is recorded. `bcf signoff` on the
command line resumes a paused run too."""

from __future__ import annotations

import email
import email.policy
import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bcf.core.settings import PROJECT_ROOT
from tests.fixtures import HWB, write_df_fixture
from tests.integration.conftest import prefect_server
from tests.receivers import SecureSmtp

BIN = Path(sys.executable).parent
DEPLOYMENT = f"fortnightly-return/discharge-fund-fortnightly-{HWB.lower()}"




@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with prefect_server(tmp_path_factory.mktemp("prefect-home"), 180) as running:
        yield running


def _state(client: Any, run_id: Any, until: Any, seconds: int, log: Path) -> Any:
    deadline = time.monotonic() + seconds
    state = client.read_flow_run(run_id).state
    while time.monotonic() < deadline and not until(state):
        time.sleep(1)
        state = client.read_flow_run(run_id).state
    assert until(state), (state, log.read_text()[-3000:])
    return state


def _deployment(client: Any, out: Path, log: Path) -> Any:
    """The fortnightly deployment once this test's `bcf serve` has registered it (with this test's --out)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            deployment = client.read_deployment_by_name(DEPLOYMENT)
            if deployment.parameters.get("out_dir") == str(out):
                return deployment
        except Exception:
            pass
        time.sleep(1)
    raise AssertionError(log.read_text()[-3000:])


def _input(client: Any, run_id: Any, key: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            return str(client.read_flow_run_input(run_id, key))
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _register(data: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM submission_register ORDER BY coalesce(sent_at, signed_off_at)")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_a_scheduled_run_pauses_for_signoff_then_sends_the_return(server: tuple[str, dict[str, str]],
                                                                 tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, env = server
    smtp = SecureSmtp(tmp_path)
    env = {**env, **smtp.env()}
    src = write_df_fixture(tmp_path / "src")
    out, data = tmp_path / "out", tmp_path / "data"
    serve_log_path = tmp_path / "serve.log"
    serve_log = open(serve_log_path, "w")  # noqa: SIM115 - closed below
    serving = subprocess.Popen([str(BIN / "bcf"), "serve", "--source", str(src), "--hwb", HWB, "--out", str(out),
                                "--data-dir", str(data), "--allow-development-key"],
                               env=env, cwd=PROJECT_ROOT, stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = _deployment(client, out, serve_log_path)

            # 1. the run writes the return and pauses, showing the sign-off form
            begun = time.monotonic()
            run = client.create_flow_run_from_deployment(deployment.id, parameters={"period_end": "2023-01-19"})
            paused = _state(client, run.id, lambda s: s is not None and (s.is_paused() or s.is_final()), 300,
                            serve_log_path)
            to_pause = time.monotonic() - begun
            assert paused.is_paused(), paused
            keyset = paused.state_details.run_input_keyset
            assert keyset is not None
            schema = _input(client, run.id, keyset["schema"])  # saved just after the Paused state is set
            for field in ("name", "role", "date", "narrative", "confirm"):
                assert field in schema
            assert "I confirm these figures" in schema
            assert "is written and waits for sign-off" in _input(client, run.id, keyset["description"])
            workbook = out / f"df_fortnightly_{HWB}_2023-01-19.xlsx"
            assert workbook.exists() and smtp.messages == []

            # 2. the officer answers the form (the UI posts this run input with Resume)
            begun = time.monotonic()
            resume_flow_run(run.id, run_input={"name": "Jane Smith", "role": "Director of Adult Social Care",
                                               "date": "2023-01-20", "narrative": "Two care homes closed.",
                                               "confirm": True})
            done = _state(client, run.id, lambda s: s is not None and s.is_final(), 240, serve_log_path)
            to_sent = time.monotonic() - begun
            assert done.is_completed(), (done, serve_log_path.read_text()[-3000:])
            assert "sent to national-bcf-team@example.org by smtp" in (done.message or "")
        print(f"\nmeasured: run to paused form {to_pause:.1f} s; resume to sent {to_sent:.1f} s")

        # 3. one message, its attachment byte-identical to the file the register records
        assert len(smtp.messages) == 1 and smtp.logins == [(smtp.user, True)]
        message = email.message_from_bytes(smtp.messages[0], policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        attached = next(message.iter_attachments()).get_content()
        rows = _register(data)
        assert [r["event"] for r in rows] == ["signoff", "submission"]
        assert rows[0]["prefect_flow_run_id"] == str(run.id) and rows[0]["signed_off_by"] == "Jane Smith"
        sent = rows[1]
        assert hashlib.sha256(attached).hexdigest() == sent["file_sha256"]
        copy = next((workbook.with_name(workbook.stem + ".audit") / "sent" / sent["id"]).glob("*.xlsx"))
        assert copy.read_bytes() == attached
        assert "Two care homes closed." in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        # 4. a second submit sends nothing; --resend sends again and is recorded
        again = subprocess.run([str(BIN / "bcf"), "submit", str(workbook)], env=env, capture_output=True, text=True,
                               timeout=120)
        assert again.returncode == 0 and "was already sent on" in again.stdout, again.stdout + again.stderr
        assert len(smtp.messages) == 1
        resent = subprocess.run([str(BIN / "bcf"), "submit", str(workbook), "--resend"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert resent.returncode == 0, resent.stdout + resent.stderr
        assert len(smtp.messages) == 2
        assert [(r["event"], r["resend"]) for r in _register(data)][-1] == ("submission", True)
        listing = subprocess.run([str(BIN / "bcf"), "submissions", "--hwb", HWB, "--data-dir", str(data)], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert listing.returncode == 0 and "submission (resend)" in listing.stdout
        for output in (serve_log_path.read_text(), again.stdout + again.stderr, resent.stdout + resent.stderr,
                       listing.stdout):
            assert smtp.password not in output
    finally:
        serving.terminate()
        serving.wait(timeout=30)
        serve_log.close()
        smtp.close()


def test_bcf_signoff_on_the_command_line_resumes_the_paused_run(server: tuple[str, dict[str, str]],
                                                               tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, env = server
    outbox = tmp_path / "outbox"
    env = {**env, "BCF_SUBMIT_OUTBOX": str(outbox)}
    src = write_df_fixture(tmp_path / "src")
    out, data = tmp_path / "out", tmp_path / "data"
    serve_log_path = tmp_path / "serve.log"
    serve_log = open(serve_log_path, "w")  # noqa: SIM115 - closed below
    serving = subprocess.Popen([str(BIN / "bcf"), "serve", "--source", str(src), "--hwb", HWB, "--out", str(out),
                                "--data-dir", str(data), "--allow-development-key"],
                               env=env, cwd=PROJECT_ROOT, stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = _deployment(client, out, serve_log_path)
            run = client.create_flow_run_from_deployment(deployment.id, parameters={"period_end": "2023-02-02"})
            paused = _state(client, run.id, lambda s: s is not None and (s.is_paused() or s.is_final()), 300,
                            serve_log_path)
            assert paused.is_paused(), paused
            workbook = out / f"df_fortnightly_{HWB}_2023-02-02.xlsx"
            begun = time.monotonic()
            signed = subprocess.run([str(BIN / "bcf"), "signoff", str(workbook), "--by", "Jane Smith", "--role",
                                     "Director of Adult Social Care", "--on", "2023-02-03"], env=env,
                                    capture_output=True, text=True, timeout=300)
            assert signed.returncode == 0, signed.stdout + signed.stderr
            assert "resumed the scheduled run" in signed.stdout
            done = _state(client, run.id, lambda s: s is not None and s.is_final(), 240, serve_log_path)
            print(f"\nmeasured: bcf signoff to sent {time.monotonic() - begun:.1f} s")
            assert done.is_completed(), (done, serve_log_path.read_text()[-3000:])
        rows = _register(data)
        assert [r["event"] for r in rows] == ["signoff", "submission"]  # recorded once, not again by the run
        assert len(list(outbox.glob("*.receipt.json"))) == 1
    finally:
        serving.terminate()
        serving.wait(timeout=30)
        serve_log.close()


def test_a_run_not_signed_off_in_time_is_reported_not_left_hanging(server: tuple[str, dict[str, str]],
                                                                   tmp_path: Path) -> None:
    import shutil

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from bcf.core.settings import config_dir
    from tests.receivers import Webhook

    api, env = server
    config = tmp_path / "config"
    shutil.copytree(config_dir(), config)
    settings = (config / "settings.toml").read_text()
    (config / "settings.toml").write_text(settings.replace("signoff_timeout_hours = 72", "signoff_timeout_hours = "
                                                           "0.005").replace("signoff_poll_seconds = 10",
                                                                            "signoff_poll_seconds = 1"))
    hook = Webhook()
    env = {**env, "BCF_SUBMIT_OUTBOX": str(tmp_path / "outbox"), "BCF_CONFIG_DIR": str(config),
           "BCF_ALERT_WEBHOOK_URL": hook.url}
    out = tmp_path / "out"
    serve_log_path = tmp_path / "serve.log"
    serve_log = open(serve_log_path, "w")  # noqa: SIM115 - closed below
    serving = subprocess.Popen([str(BIN / "bcf"), "serve", "--source", str(write_df_fixture(tmp_path / "src")),
                                "--hwb", HWB, "--out", str(out), "--data-dir", str(tmp_path / "data"),
                                "--allow-development-key"],
                               env=env, cwd=PROJECT_ROOT, stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = _deployment(client, out, serve_log_path)
            run = client.create_flow_run_from_deployment(deployment.id, parameters={"period_end": "2023-01-19"})
            done = _state(client, run.id, lambda s: s is not None and s.is_final(), 300, serve_log_path)
            # the server fails a pause past its deadline itself, naming the state the run asked for
            assert done.is_failed() and "not signed off" in (done.message or ""), done
        assert any(a["status"] == "not signed off" and a["period"] == "2023-01-19"
                   and "was not signed off within 0.005 h" in a["reason"] for a in hook.received), hook.received
        assert not (tmp_path / "outbox").exists()  # nothing sent
    finally:
        serving.terminate()
        serving.wait(timeout=30)
        serve_log.close()
        hook.close()


def test_a_late_return_fires_the_deadline_automation(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    """`bcf calendar --alert` against the server emits bcf.return.late; the shipped bcf-return-deadline automation
    (created by `bcf automations`) notifies the webhook."""
    from tests.receivers import Webhook

    api, env = server
    env = {k: v for k, v in env.items() if k not in ("PREFECT_LOGGING_LEVEL",)}
    hook = Webhook()
    try:
        made = subprocess.run([str(BIN / "bcf"), "automations", "--webhook-url", hook.url], env=env,
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0 and "bcf-return-deadline" in made.stdout, made.stdout + made.stderr
        cal = subprocess.run([str(BIN / "bcf"), "calendar", "--hwb", HWB, "--fund-year", "2022-23", "--out",
                              str(tmp_path / "out"), "--data-dir", str(tmp_path / "data"), "--as-at",
                              "2023-01-07T09:00", "--alert"], env=env, capture_output=True, text=True, timeout=120)
        assert cal.returncode == 0, cal.stdout + cal.stderr
        assert "event bcf.return.late: df E06000017 2023-01-05 was due Fri 06/01/2023 17:00" in cal.stdout
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("2023-01-05" in str(n) for n in hook.received):
            time.sleep(1)
        note = next(n for n in hook.received if "2023-01-05" in str(n))
        assert note["subject"] == "[BCF] bcf.return.late: df E06000017 2023-01-05"
        assert "not submitted: late (not produced)" in note["body"]
    finally:
        hook.close()
