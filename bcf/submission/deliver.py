"""`bcf submit WORKBOOK [--resend]`: send the signed-off return to the national team.

What is sent is a copy of the workbook with the recorded sign-off written onto its sign-off cells (the built-in
Cover's fields, or a template cell map's `[signoff]` cells), kept in the audit pack under `sent/<submission id>/`;
the original stays as the run wrote it. It goes by e-mail (smtplib: STARTTLS, login; the workbook attached, the
narrative in the body) or, with an outbox configured, into a folder or an S3 prefix with a JSON receipt.

Refused when the return is not signed off or its figures changed since sign-off. The same figures sent before:
nothing is sent (the answer says when it went) unless `resend`. Different figures after a submission: a
resubmission, whose message names the figures that moved since what was actually sent and the source rows behind
them (returns/revisions.py against the sent run's audit pack), and whose register row names the submission it replaces.
A delivery that fails records nothing as sent; its error never carries the password.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from bcf.core import s3
from bcf.core.settings import env, settings
from bcf.returns import revisions
from bcf.returns.pack import history_name, pack_dir, sha256_file
from bcf.returns.returninfo import ReturnInfo, figures_hash, load, signoff_cells
from bcf.submission import register
from bcf.submission.signoff import Refused, check_not_blocked, latest_signoff, return_data_dir
from bcf.transforms.workbook import FORMATS, save_atomically

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class DeliveryError(Exception):
    """The return could not be delivered (SMTP unreachable, login refused, outbox not writable): nothing sent."""


@dataclass(frozen=True)
class Destination:
    to: str
    sender: str
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str
    smtp_password: str = field(repr=False)  # only from BCF_SUBMIT_SMTP_PASSWORD; never printed
    outbox: str

    @property
    def configured(self) -> bool:
        return bool(self.outbox or (self.smtp_host and self.to))

    @property
    def transport(self) -> str:
        if self.outbox:
            return "outbox-s3" if s3.is_s3(self.outbox) else "outbox-folder"
        return "smtp"

    @property
    def recipient(self) -> str:
        return self.outbox or self.to


def destination() -> Destination:
    """settings.toml [submission], each key overridden by its BCF_SUBMIT_* variable; the password only from the
    environment (a password in settings.toml is ignored, so it cannot end up in a repository)."""
    cfg = {**settings().get("submission", {}), **env().submission}
    flag = str(cfg.get("smtp_starttls", True)).strip().lower()
    port = str(cfg.get("smtp_port") or 587)
    if not port.isdigit():
        raise ValueError(f"BCF_SUBMIT_SMTP_PORT must be a port number, not {port!r}")
    return Destination(to=str(cfg.get("to") or ""), sender=str(cfg.get("from") or "bcf-pipeline@localhost"),
                       smtp_host=str(cfg.get("smtp_host") or ""), smtp_port=int(port),
                       smtp_starttls=flag in ("1", "true", "yes"), smtp_user=str(cfg.get("smtp_user") or ""),
                       smtp_password=env().submission.get("smtp_password", ""), outbox=str(cfg.get("outbox") or ""))


@dataclass
class Outcome:
    status: str  # sent | already
    entry: register.Entry
    copy: Path | None = None
    message: str = ""
    changes: list[dict[str, object]] = field(default_factory=list)


def signed_copy(workbook: Path, info: ReturnInfo, signoff: register.Entry, dest: Path) -> Path:
    """The workbook with the sign-off on its sign-off cells, written atomically at `dest`; the original untouched."""
    from openpyxl import load_workbook

    cells = signoff_cells(workbook, info.manifest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not cells:  # a template with no sign-off cells mapped: sent as written
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(workbook, tmp)
        os.replace(tmp, dest)
        return dest
    book = load_workbook(workbook, keep_vba=workbook.suffix.lower() == ".xlsm")
    # a template may ask only "Signed off on behalf of the Board? (Yes/No)": `signed_off` in its [signoff] map
    values: dict[str, object] = {"signed_off_by": f"{signoff.signed_off_by}, {signoff.signed_off_role}",
                                 "signed_off_on": signoff.signed_off_on, "signed_off": "Yes"}
    for key, value in values.items():
        if key in cells:
            sheet, coord = cells[key]
            cell = book[sheet][coord]
            cell.value = value
            if isinstance(value, dt.date):
                cell.number_format = FORMATS["date"]
    save_atomically(book, dest)
    return dest


def _sent_pack(workbook: Path, run_id: str) -> Path | None:
    """The audit pack of the run whose return was sent: the current one, or its history copy after a re-run."""
    for pack in (pack_dir(workbook), pack_dir(history_name(workbook, run_id))):
        try:
            if json.loads((pack / "manifest.json").read_text(encoding="utf-8"))["run"]["run_id"] == run_id:
                return pack
        except (OSError, ValueError, KeyError):
            continue
    return None


def changes_since(workbook: Path, info: ReturnInfo, sent: register.Entry) -> list[dict[str, object]]:
    """Figures moved and source rows added / removed / changed since the submission `sent` (returns/revisions.py)."""
    pack = _sent_pack(workbook, sent.run_id)
    if pack is None:
        return [{"change": "figure", "what": "unknown", "figure_id": "(the sent run's audit pack is missing)"}]
    figures = {f["figure_id"]: f["value"] for f in info.manifest["figures"]}
    return revisions.compare(pack, revisions.lineage_path(pack_dir(workbook)), figures)


def describe_changes(changes: list[dict[str, object]], limit: int = 40) -> list[str]:
    moved = [c for c in changes if c["change"] == "figure"]
    rows = [c for c in changes if c["change"] == "row"]
    lines = [f"Figures that moved since the last submission ({len(moved)}):"]
    lines += [f"  - {c['figure_id']}: {c.get('old')} -> {c.get('new')}" for c in moved[:limit]]
    lines += [f"  ... and {len(moved) - limit} more"] if len(moved) > limit else []
    lines += ["", f"Source rows that explain them ({len(rows)}; file, business key, what happened, figures moved):"]
    lines += [f"  - {c['file']} {c['key']}: {c['what']}"
              + (f" (row {c['new_row'] or c['old_row']})" if c.get("new_row") or c.get("old_row") else "")
              + (f"; moves {c['figures']}" if c.get("figures") else "") for c in rows[:limit]]
    lines += [f"  ... and {len(rows) - limit} more (revisions in the audit pack)"] if len(rows) > limit else []
    return lines


def compose(info: ReturnInfo, signoff: register.Entry, copy: Path, dest: Destination, replaces: register.Entry | None,
            changes: list[dict[str, object]], resend: bool) -> EmailMessage:
    message = EmailMessage()
    prefix = "Resubmission: " if replaces else "Re-sent: " if resend else ""
    message["Subject"] = f"{prefix}{info.title}"
    message["From"] = dest.sender
    message["To"] = dest.to or dest.recipient
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid("bcf-submission", domain=dest.sender.rpartition("@")[2] or "localhost")
    signed = f"{signoff.signed_off_by}, {signoff.signed_off_role}, on {signoff.signed_off_on:%d/%m/%Y}"
    body = [f"{info.title}", "", f"Signed off on behalf of the Health and Wellbeing Board by {signed}.", ""]
    if replaces is not None:
        when = replaces.sent_at.strftime("%d/%m/%Y %H:%M UTC") if replaces.sent_at else "earlier"
        body += [f"This corrected return replaces the one sent on {when} (message {replaces.message_id}).", "",
                 *describe_changes(changes), ""]
    body += ["Narrative:", "", (signoff.narrative or "(none given)").strip(), "",
             f"Attached: {info.workbook.name} (sha256 {sha256_file(copy)}; figures sha256 {signoff.figures_sha256})."]
    message.set_content("\n".join(body) + "\n")
    message.add_attachment(copy.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                           filename=info.workbook.name)
    return message


def _scrub(text: str, dest: Destination) -> str:
    return text.replace(dest.smtp_password, "********") if dest.smtp_password else text


def send_smtp(message: EmailMessage, dest: Destination) -> None:
    where = f"{dest.smtp_host}:{dest.smtp_port}"
    try:
        with smtplib.SMTP(dest.smtp_host, dest.smtp_port, timeout=30) as smtp:
            if dest.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())  # SSL_CERT_FILE names a private CA
            if dest.smtp_user:
                smtp.login(dest.smtp_user, dest.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"the SMTP server {where} refused the login of {dest.smtp_user!r} "
                            f"({exc.smtp_code}); check BCF_SUBMIT_SMTP_USER / BCF_SUBMIT_SMTP_PASSWORD") from None
    except (OSError, smtplib.SMTPException) as exc:
        reason = _scrub(f"{type(exc).__name__}: {exc}", dest).replace("\n", " ")
        raise DeliveryError(f"cannot send the return through SMTP {where}: {reason}") from None


def send_outbox(message: EmailMessage, copy: Path, receipt: dict[str, Any], dest: Destination) -> str:
    """The workbook and a JSON receipt (the register row and the message text) into the outbox; returns where."""
    name = f"{receipt['id']}_{copy.name}"
    body = json.dumps({**receipt, "subject": message["Subject"], "attachment": name,
                       "text": message.get_body(("plain",)).get_content()}, indent=2)  # type: ignore[union-attr]
    if s3.is_s3(dest.outbox):
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = s3.split_folder(dest.outbox)
        try:
            client = s3.client()
            client.put_object(Bucket=bucket, Key=prefix + name, Body=copy.read_bytes(),
                              ContentType="/".join(XLSX_TYPE))
            client.put_object(Bucket=bucket, Key=prefix + name + ".receipt.json", Body=body.encode(),
                              ContentType="application/json")
        except (BotoCoreError, ClientError) as exc:
            raise DeliveryError(f"cannot put the return into {dest.outbox}: {exc}") from None
        return f"s3://{bucket}/{prefix}{name}"
    folder = Path(dest.outbox)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target, data in ((folder / name, copy.read_bytes()), (folder / f"{name}.receipt.json", body.encode())):
            tmp = folder / f".{target.name}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, target)  # the receipt last: a receipt always has its workbook beside it
    except OSError as exc:
        raise DeliveryError(f"cannot write the return into the outbox {folder}: {exc}") from None
    return str(folder / name)


def submit(workbook: Path, resend: bool = False, data_dir: str | Path | None = None,
           flow_run_id: str | None = None) -> Outcome:
    """Send the signed-off return (see the module's docstring). Raises Refused, DeliveryError."""
    check_not_blocked(workbook)
    info = load(workbook)
    figures = figures_hash(workbook, info.manifest)
    where = return_data_dir(info, data_dir)
    dest = destination()
    if not dest.configured:
        raise ValueError("nowhere to send it: set [submission] to and smtp_host in config/settings.toml (or "
                         "BCF_SUBMIT_TO and BCF_SUBMIT_SMTP_HOST), or an outbox (BCF_SUBMIT_OUTBOX)")
    with register.opened(where, "bcf submit") as con:
        entries = register.for_return(con, info.hwb, info.kind, info.period)
    signoff = latest_signoff(entries)
    if signoff is None:
        raise Refused(f"{workbook.name} is not signed off: run bcf signoff {workbook} --by NAME --role ROLE")
    if signoff.figures_sha256 != figures:
        raise Refused(f"{workbook.name}: the figures changed since {signoff.signed_off_by} signed it off on "
                      f"{signoff.signed_off_on:%d/%m/%Y} (figures sha256 {signoff.figures_sha256[:12]}, now "
                      f"{figures[:12]}); it must be signed off again")
    sent = [e for e in entries if e.event == "submission"]
    same = [e for e in sent if e.figures_sha256 == figures]
    if same and not resend:
        last = same[-1]
        return Outcome("already", last, message=f"{workbook.name} was already sent on "
                       f"{last.sent_at:%d/%m/%Y %H:%M} UTC to {last.recipient} ({last.transport}, message "
                       f"{last.message_id}); nothing sent (--resend sends it again)")
    replaces = sent[-1] if sent and not same else None  # a corrected return replaces the last one sent
    changes = changes_since(workbook, info, replaces) if replaces is not None else []

    sid = register.new_id()
    copy = signed_copy(workbook, info, signoff, pack_dir(workbook) / "sent" / sid / workbook.name)
    if figures_hash(copy, info.manifest) != figures:  # the sign-off cells must never touch a figure
        raise Refused(f"{workbook.name}: writing the sign-off changed a figure cell; check the cell map's [signoff]")
    if changes:
        revisions.write(copy.parent / "changes_since_last_submission.csv", changes)
    message = compose(info, signoff, copy, dest, replaces, changes, resend and bool(same))
    entry = register.Entry(
        id=sid, event="submission", hwb=info.hwb, return_kind=info.kind, period=info.period,
        fund_year=info.fund_year, workbook=workbook.name, run_id=info.run_id, figures_sha256=figures,
        file_sha256=sha256_file(copy), signed_off_by=signoff.signed_off_by, signed_off_role=signoff.signed_off_role,
        signed_off_on=signoff.signed_off_on, signed_off_at=signoff.signed_off_at, narrative=signoff.narrative,
        signoff_id=signoff.id, transport=dest.transport, recipient=dest.recipient,
        message_id=str(message["Message-ID"]), replaces=replaces.id if replaces else None,
        resend=bool(same), prefect_flow_run_id=flow_run_id)
    entry.sent_at = register.now()
    try:
        if dest.outbox:
            entry.recipient = send_outbox(message, copy, entry.as_json(), dest)
        else:
            send_smtp(message, dest)
    except DeliveryError:
        shutil.rmtree(copy.parent, ignore_errors=True)  # nothing was sent: no copy claims otherwise
        raise
    with register.opened(where, "bcf submit") as con:
        register.add(con, entry)
        register.write_pack_record(workbook, info.run_id, con, info.hwb, info.kind, info.period)
    verb = "resubmitted" if replaces else "re-sent" if same else "sent"
    return Outcome("sent", entry, copy, f"{workbook.name} {verb} to {entry.recipient} by {entry.transport} at "
                   f"{entry.sent_at:%d/%m/%Y %H:%M} UTC (message {entry.message_id})", changes)
