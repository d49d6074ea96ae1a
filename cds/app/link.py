"""The launch URL of the work-up app, which the patient-view card links to (a CDS Hooks 2.0 Link
of type smart, built with its catalogue label by cds/render/cards.py).

The link carries no patient data and no ``appContext``: the EHR adds ``iss`` and ``launch`` when
it opens the app, and the patient comes back in the token response.
"""

from __future__ import annotations

LAUNCH_PATH = "/app/launch"


def launch_url(base_url: str) -> str:
    """The app's launch URL under the service's public base URL."""
    return base_url.rstrip("/") + LAUNCH_PATH
