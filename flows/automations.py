"""Alerts through Prefect: the automations in config/automations/*.json, created on a Prefect server.

Each file is a Prefect automation (name, trigger, actions) as the Prefect API takes it, except that a
`send-notification` action names its notification block (`"block": "bcf-alerts"`) instead of carrying the block's
id, which differs per server. `create_automations` saves that block (a custom webhook posting JSON
`{"subject", "body", "text"}` to the given URL) when a URL is given, resolves the names, and replaces any automation
of the same name, so running it again is safe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bcf.core.settings import config_dir


def definitions(folder: Path | None = None) -> list[dict[str, Any]]:
    folder = folder or config_dir() / "automations"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def save_webhook_block(url: str, name: str = "bcf-alerts") -> Any:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(  # type: ignore[call-arg]  # headers and cookies are optional
        name=name, url=url, method="POST",
        json_data={"subject": "{{subject}}", "body": "{{body}}", "text": "{{subject}}\n{{body}}"})
    return block.save(name, overwrite=True)


def _block_id(name: str) -> Any:
    """A notification block's document id by block name (any notification block type: webhook, Slack, Teams)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        docs = [d for d in client.read_block_documents(include_secrets=False) if d.name == name]
    if not docs:
        raise ValueError(f"no Prefect block named {name!r}: pass --webhook-url, or create a notification block "
                         f"named {name} in the UI (Blocks > +)")
    return docs[0].id


def create_automations(webhook_url: str | None = None, folder: Path | None = None) -> list[Any]:
    from prefect.automations import Automation
    from prefect.client.orchestration import get_client

    if webhook_url:
        save_webhook_block(webhook_url)
    created = []
    for spec in definitions(folder):
        for action in spec.get("actions", []):
            if "block" in action:
                action["block_document_id"] = str(_block_id(action.pop("block")))
        with get_client(sync_client=True) as client:
            for old in client.read_automations_by_name(spec["name"]):
                client.delete_automation(old.id)
        created.append(Automation.model_validate(spec).create())
    return created
