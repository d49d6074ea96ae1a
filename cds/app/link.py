"""The patient-view card's ``smart`` link to the work-up app (CDS Hooks 2.0 Link, type smart).

The link carries no patient data and no ``appContext``: the EHR adds ``iss`` and ``launch`` when
it opens the app, and the patient comes back in the token response.
"""

from __future__ import annotations

from typing import Any

from cds.app.pages import texts

LAUNCH_PATH = "/app/launch"


def launch_url(base_url: str) -> str:
    """The app's launch URL under the service's public base URL."""
    return base_url.rstrip("/") + LAUNCH_PATH


def smart_link(url: str) -> dict[str, Any]:
    return {"label": texts()["link_label"], "url": url, "type": "smart"}
