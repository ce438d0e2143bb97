"""Where things are, the BCF_* environment, and the reference data in config/: one loader, cached, so every module
reads the same config. The bottom layer: transforms/, warehouse/, bcf/ and flows/ import it; it imports none of them."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _resource_dir(name: str) -> Path:
    """A data folder shipped with the code: in an installed wheel, bcf/_resources/<name> (importlib.resources: a
    lookup of package data by name, not an import of the bcf layer); in a checkout (or an editable install), the
    project's own top-level folder."""
    packaged = Path(str(resources.files("bcf._resources") / name))
    return packaged if packaged.is_dir() else PROJECT_ROOT / name

# Every environment variable the pipeline reads, with what it does: docs/operations.md's table is checked against it.
ENV_VARS = {
    "BCF_CONFIG_DIR": "folder of settings.toml, codes.toml, extracts.toml, hwb.csv, suppliers/, cellmaps/, "
                      "automations/ (default: the shipped config: bcf/_resources/config in a wheel, config/ in a "
                      "checkout)",
    "BCF_EXPECTATIONS_DIR": "folder of the GX suites as JSON (default: the shipped expectations)",
    "BCF_DATA_DIR": "warehouse and landing area when --data-dir is not given (default: settings.toml "
                    "[pipeline] data_dir)",
    "BCF_PSEUDONYM_KEY": "the key that pseudonymises NHS numbers (at least settings.toml min_length characters)",
    "BCF_ALLOW_DEVELOPMENT_KEY": "1 (or true/yes) gives leave to use the documented development key when "
                                 "BCF_PSEUDONYM_KEY is not set: synthetic data only (`--allow-development-key`)",
    "BCF_REPSEUDONYMISE": "1 (set by `--repseudonymise`): the pseudonym key changed on purpose; the data dir stages "
                          "every file in force again with the new key instead of refusing it",
    "BCF_LOCK_TIMEOUT": "seconds a run waits for another run's lock on the data dir (default in core/runlock.py)",
    "BCF_CONSOLE_PROGRESS": "1 (set by the bcf command itself): flows print our own progress lines plainly and "
                            "Prefect's console handler stays at WARNING",
    "BCF_ORCHESTRATION": "auto (default): `bcf run`/`ingest`/`demo` run as Prefect flows when a Prefect server is "
                         "configured (PREFECT_API_URL, in the environment or the active Prefect profile), else "
                         "plainly in the bcf process; prefect: always as flows (Prefect starts a temporary server "
                         "when none is configured); local: never",
    "BCF_SOURCE": "`bcf serve`: the source folder or s3:// prefix when --source is not given",
    "BCF_HWB": "`bcf serve`: the HWB code when --hwb is not given",
    "BCF_ALERT_WEBHOOK_URL": "alerts: POST a JSON alert here (a Teams/Slack incoming webhook, say)",
    "BCF_ALERT_SMTP_HOST": "alerts: send email through this SMTP host (with BCF_ALERT_EMAIL_TO)",
    "BCF_ALERT_SMTP_PORT": "alerts: SMTP port (default 25)",
    "BCF_ALERT_SMTP_STARTTLS": "alerts: 1 to upgrade the SMTP connection with STARTTLS",
    "BCF_ALERT_SMTP_USER": "alerts: SMTP login user (optional)",
    "BCF_ALERT_SMTP_PASSWORD": "alerts: SMTP login password (optional)",
    "BCF_ALERT_EMAIL_FROM": "alerts: sender address (default bcf-pipeline@localhost)",
    "BCF_ALERT_EMAIL_TO": "alerts: recipients, comma separated",
    "BCF_SUBMIT_TO": "submission: the national team's address (settings.toml [submission] to)",
    "BCF_SUBMIT_FROM": "submission: the sender address (settings.toml [submission] from)",
    "BCF_SUBMIT_SMTP_HOST": "submission: SMTP host that sends the return (settings.toml [submission] smtp_host)",
    "BCF_SUBMIT_SMTP_PORT": "submission: SMTP port (settings.toml [submission] smtp_port, default 587)",
    "BCF_SUBMIT_SMTP_STARTTLS": "submission: 1 to upgrade the SMTP connection with STARTTLS, 0 not to",
    "BCF_SUBMIT_SMTP_USER": "submission: SMTP login user",
    "BCF_SUBMIT_SMTP_PASSWORD": "submission: SMTP login password (only ever from the environment)",
    "BCF_SUBMIT_OUTBOX": "submission: a folder or s3:// prefix that receives the return and a JSON receipt "
                         "instead of an e-mail",
}


@dataclass(frozen=True)
class Settings:
    """Files and BCF_* environment variables resolved in one place. Read afresh by env(): a test or a deployment
    may change the environment between runs."""

    config_dir: Path
    expectations_dir: Path
    data_dir: Path | None
    pseudonym_key: str | None
    allow_development_key: bool
    repseudonymise: bool
    lock_timeout: str | None
    console_progress: bool
    orchestration: str
    source: str | None
    hwb: str | None
    alert_webhook_url: str | None
    alert_smtp_host: str | None
    alert_smtp_port: int
    alert_smtp_starttls: bool
    alert_smtp_user: str | None
    alert_smtp_password: str
    alert_email_from: str
    alert_email_to: str | None
    # BCF_SUBMIT_* given, by key of settings.toml [submission] (bcf.submission.deliver); holds the SMTP password,
    # so it is kept out of the repr
    submission: dict[str, str] = field(repr=False)


SUBMIT_VARS = {"to": "BCF_SUBMIT_TO", "from": "BCF_SUBMIT_FROM", "smtp_host": "BCF_SUBMIT_SMTP_HOST",
               "smtp_port": "BCF_SUBMIT_SMTP_PORT", "smtp_starttls": "BCF_SUBMIT_SMTP_STARTTLS",
               "smtp_user": "BCF_SUBMIT_SMTP_USER", "smtp_password": "BCF_SUBMIT_SMTP_PASSWORD",
               "outbox": "BCF_SUBMIT_OUTBOX"}


def env(environ: Mapping[str, str] | None = None) -> Settings:
    e = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        assert name in ENV_VARS, name  # every variable read is a documented one
        return e.get(name) or None

    data_dir = get("BCF_DATA_DIR")
    return Settings(
        config_dir=Path(get("BCF_CONFIG_DIR") or _resource_dir("config")),
        expectations_dir=Path(get("BCF_EXPECTATIONS_DIR") or _resource_dir("expectations")),
        data_dir=Path(data_dir) if data_dir else None,
        pseudonym_key=get("BCF_PSEUDONYM_KEY"),
        allow_development_key=(get("BCF_ALLOW_DEVELOPMENT_KEY") or "").strip().lower() in ("1", "true", "yes"),
        repseudonymise=get("BCF_REPSEUDONYMISE") == "1",
        lock_timeout=get("BCF_LOCK_TIMEOUT"),
        console_progress=get("BCF_CONSOLE_PROGRESS") == "1",
        orchestration=(get("BCF_ORCHESTRATION") or "auto").strip().lower(),
        source=get("BCF_SOURCE"),
        hwb=get("BCF_HWB"),
        alert_webhook_url=get("BCF_ALERT_WEBHOOK_URL"),
        alert_smtp_host=get("BCF_ALERT_SMTP_HOST"),
        alert_smtp_port=int(get("BCF_ALERT_SMTP_PORT") or 25),
        alert_smtp_starttls=get("BCF_ALERT_SMTP_STARTTLS") == "1",
        alert_smtp_user=get("BCF_ALERT_SMTP_USER"),
        alert_smtp_password=get("BCF_ALERT_SMTP_PASSWORD") or "",
        alert_email_from=get("BCF_ALERT_EMAIL_FROM") or "bcf-pipeline@localhost",
        alert_email_to=get("BCF_ALERT_EMAIL_TO"),
        submission={key: value for key, name in SUBMIT_VARS.items() if (value := get(name)) is not None},
    )


ORCHESTRATIONS = ("auto", "prefect", "local")


def use_prefect(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a run goes through Prefect (BCF_ORCHESTRATION). auto: only when a Prefect server is configured, in
    the environment or the active Prefect profile (read here without importing Prefect, ~2 s)."""
    e = os.environ if environ is None else environ
    choice = env(e).orchestration
    if choice not in ORCHESTRATIONS:
        raise ValueError(f"BCF_ORCHESTRATION must be one of {', '.join(ORCHESTRATIONS)}, not {choice!r}")
    if choice != "auto":
        return choice == "prefect"
    return bool(e.get("PREFECT_API_URL")) or bool(_profile_api_url(e))


def prefect_ui_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The Prefect UI's address, for links a person follows from an alert: PREFECT_UI_URL, else PREFECT_API_URL
    without its trailing /api (as Prefect derives it), each from the environment or the active profile; None when
    no Prefect server is configured."""
    e = os.environ if environ is None else environ
    ui = e.get("PREFECT_UI_URL") or _profile_api_url(e, "PREFECT_UI_URL")
    if ui:
        return ui.rstrip("/")
    api = e.get("PREFECT_API_URL") or _profile_api_url(e)
    if not api:
        return None
    api = api.rstrip("/")
    return api[: -len("/api")] if api.endswith("/api") else api


def _profile_api_url(e: Mapping[str, str], setting: str = "PREFECT_API_URL") -> str | None:
    """A setting (PREFECT_API_URL unless named) as `prefect config set` stores it: in the active profile of
    PREFECT_HOME/profiles.toml."""
    home = Path(e.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(e.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        with open(path, "rb") as fh:
            profiles = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = e.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    url = profiles.get("profiles", {}).get(active, {}).get(setting)
    return str(url) if url else None


def config_dir() -> Path:
    return env().config_dir


def expectations_dir() -> Path:
    return env().expectations_dir


def data_dir(given: str | Path | None = None) -> Path:
    """The warehouse and landing area: the command line's, else BCF_DATA_DIR, else settings.toml's."""
    return Path(given or env().data_dir or settings()["pipeline"]["data_dir"])


def sql_dir() -> Path:
    return PROJECT_ROOT / "warehouse" / "sql"


@cache
def _toml(name: str) -> dict[str, Any]:
    with open(config_dir() / name, "rb") as fh:
        return tomllib.load(fh)


def settings() -> dict[str, Any]:
    return _toml("settings.toml")


def codes() -> dict[str, Any]:
    return _toml("codes.toml")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text | code | int | decimal | date | nhs_number
    nullable: bool = False
    optional: bool = False
    warehouse_type: str | None = None  # the staging column's SQL type, when not its type's (warehouse.staging_tables)


@dataclass(frozen=True)
class TableContract:
    """One extract kind or plan sheet as the input contract describes it."""

    table: str  # discharges, reablement, spend, plan_schemes, ...
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    sheet: str | None = None  # plan sheets only
    sheet_optional: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@cache
def contracts() -> dict[str, TableContract]:
    raw = _toml("extracts.toml")
    out = {}
    for table, spec in raw.items():
        cols = tuple(Column(**c) for c in spec["columns"])
        out[table] = TableContract(
            table=table,
            key=tuple(spec["key"]),
            columns=cols,
            sheet=spec.get("sheet"),
            sheet_optional=spec.get("sheet_optional", False),
        )
    return out


def plan_contracts() -> list[TableContract]:
    return [c for c in contracts().values() if c.sheet]


@dataclass(frozen=True)
class SupplierMapping:
    supplier: str
    kind: str
    files: str
    columns: dict[str, str] = field(default_factory=dict)

    def applies_to(self, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name.lower(), self.files.lower())


@cache
def supplier_mappings() -> tuple[SupplierMapping, ...]:
    out = []
    for path in sorted((config_dir() / "suppliers").glob("*.toml")):
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        out.append(SupplierMapping(raw["supplier"], raw["kind"], raw["files"], dict(raw.get("columns", {}))))
    return tuple(out)


def supplier_for(kind: str, file_name: str) -> SupplierMapping | None:
    """The header mapping of the supplier whose files are named like this one, if any."""
    return next((m for m in supplier_mappings() if m.kind == kind and m.applies_to(file_name)), None)


@cache
def hwb_reference() -> dict[str, dict[str, str]]:
    with open(config_dir() / "hwb.csv", newline="", encoding="utf-8") as fh:
        return {row["hwb_code"]: row for row in csv.DictReader(fh)}


def hwb_name(code: str) -> str:
    ref = hwb_reference().get(code)
    if ref is None:
        raise KeyError(f"HWB code {code} is not in config/hwb.csv")
    return ref["hwb_name"]


WEAK_KEY_DISTINCT = 8  # a random key of 32+ characters has far more; spaces or "kkkk..." have one


class PseudonymKeyError(ValueError):
    """The configured pseudonym key is refused (too short, or the development key without leave)."""


def development_key_allowed() -> bool:
    """The development key needs leave: `--allow-development-key`, BCF_ALLOW_DEVELOPMENT_KEY=1, or `bcf demo`."""
    return env().allow_development_key


def pseudonym_key(recorded: str | None = None) -> tuple[bytes, bool]:
    """The pseudonymisation key and whether it is the development key (recorded in the run ledger and manifest).

    A configured key shorter than `min_length` characters is refused; so is the development key unless leave is
    given. `recorded="development"` (bcf reproduce re-running a recorded development-key run) needs no leave: the
    landed copies were already pseudonymised with it."""
    cfg = settings()["pseudonymisation"]
    value = env().pseudonym_key
    if value:
        if len(value) < int(cfg["min_length"]):
            raise PseudonymKeyError(f"BCF_PSEUDONYM_KEY is {len(value)} characters long; a pseudonym key needs at "
                                    f"least {cfg['min_length']}")
        if value.strip() == cfg["development_key"]:
            raise PseudonymKeyError("BCF_PSEUDONYM_KEY is the documented development key, which anyone can read: "
                                    "set a secret key of your own (or, for synthetic data only, leave it unset and "
                                    "pass --allow-development-key)")
        if len(set(value.strip())) < WEAK_KEY_DISTINCT:
            # a key of spaces or of one character repeated is guessed at once: every pseudonym would be reversible
            raise PseudonymKeyError(f"BCF_PSEUDONYM_KEY is too weak (fewer than {WEAK_KEY_DISTINCT} different "
                                    "characters): set a random secret, e.g. `openssl rand -hex 32`")
        return value.encode(), False
    if recorded != "development" and not development_key_allowed():
        raise PseudonymKeyError(f"BCF_PSEUDONYM_KEY is not set; set it to a key of {cfg['min_length']}+ characters, "
                                f"or for synthetic data only pass --allow-development-key "
                                f"(or {cfg['allow_env_var']}=1)")
    return cfg["development_key"].encode(), True


def key_kind(development: bool) -> str:
    """What the ledger and the manifest record about the key: never the key itself."""
    return "development" if development else "configured"


def tree_hash(folder: Path, pattern: str = "*") -> str:
    """sha256 over the names and contents of the files under a folder: config, suites and SQL in the manifest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def package_version() -> str:
    """The installed package's version (pyproject.toml, from bcf.__version__)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bcf-returns")
    except PackageNotFoundError:
        return "unknown"


def build_info() -> dict[str, str]:
    """What setup.py wrote into a built wheel (bcf/_resources/build_info.json): the commit it was built from."""
    import json

    path = Path(str(resources.files("bcf._resources") / "build_info.json"))
    try:
        return {str(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError):
        return {}


def git_commit() -> str | None:
    """The git commit the code runs from (with '+dirty' for uncommitted changes to tracked files): the checkout's,
    else the one an installed wheel was built from; None when neither is known."""
    import subprocess

    if not (PROJECT_ROOT / ".git").exists():  # installed from a wheel: never ask a repository it happens to sit in
        return build_info().get("git_commit") or None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return build_info().get("git_commit") or None


def code_version() -> str:
    """The git commit the code runs from (see git_commit), else the package version."""
    return git_commit() or package_version()


def lock_file() -> Path:
    """constraints.txt, the pinned versions: shipped in a wheel as bcf/_resources/constraints.txt, else the
    checkout's."""
    packaged = Path(str(resources.files("bcf._resources") / "constraints.txt"))
    return packaged if packaged.is_file() else PROJECT_ROOT / "constraints.txt"

