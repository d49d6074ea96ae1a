"""End to end in a real browser (Debian's headless Chromium driven by Playwright): from the
patient-view card's smart link, through the EHR launch and the sign-in at the test EHR's
authorization server, to the work-up page; its numbers and plot points are checked and
screenshots are saved under test-artifacts/ at 800 and 1,280 px."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from tests.app.conftest import CLIENT_ID, ROOT, make_app
from tests.app.test_trends import HAND_WORKED

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def service(ehr, tmp_path):
    """The CDS service with its app, over real HTTP on a free loopback port."""
    app = make_app(tmp_path, DEADLINE_SECONDS=30.0)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    auth, _ = ehr
    auth.register_client(CLIENT_ID, [f"{base}/app/callback"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser_context(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/setup installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def card_link(service: str, fhir_base: str) -> dict:
    """What the EHR does when the chart opens: call the patient-view service."""
    body = {
        "hook": "patient-view",
        "hookInstance": "e2e-1",
        "fhirServer": fhir_base,
        "context": {"userId": "Practitioner/dr-lee", "patientId": "p40"},
    }
    answer = requests.post(f"{service}/cds-services/hcc-assessment", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    (card,) = answer.json()["cards"]
    (link,) = [link for link in card["links"] if link["type"] == "smart"]
    assert link["type"] == "smart" and link["url"] == f"{service}/app/launch"
    return link


def test_from_the_card_link_to_the_work_up_page(ehr, service, browser_context):
    auth, fhir = ehr
    link = card_link(service, fhir.base_url)
    # The EHR opens a smart link with its FHIR base URL (iss) and a launch id for the chart.
    launch = auth.mint_launch("Patient/p40")
    page = browser_context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{link['url']}?iss={fhir.base_url}&launch={launch}")
    assert page.url.startswith(f"{auth.base_url}/authorize")  # the EHR's sign-in
    page.click("#sign-in")
    page.wait_for_url(f"{service}/app/workup")

    assert page.text_content('[data-field="child_pugh.score"]') == "11"
    assert page.text_content('[data-field="child_pugh.class"]') == "C"
    assert page.text_content('[data-field="albi.score"]') == "-1.15"
    assert page.text_content('[data-field="albi.grade"]') == "3"
    assert page.text_content('[data-field="bclc.stage"]') == "D"
    assert page.get_attribute(".option", "data-option") == "no_tace"
    for key, points in HAND_WORKED.items():
        markers = page.locator(f'svg[data-series="{key}"] circle.point')
        assert markers.count() == len(points), key
        assert [markers.nth(i).get_attribute("data-date") for i in range(len(points))] == [
            day for day, _ in points
        ]
    assert not blocked, blocked
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly

    ARTIFACTS.mkdir(exist_ok=True)
    for width in (800, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"horizontal scroll at {width} px"
        page.screenshot(path=str(ARTIFACTS / f"workup-{width}.png"), full_page=True)
        page.screenshot(path=str(ARTIFACTS / f"workup-{width}-top.png"))
        for part in ("trend-child_pugh", "trend-bilirubin", "trend-tumour_size", "protocols"):
            page.locator(f"#{part}").screenshot(path=str(ARTIFACTS / f"{part}-{width}.png"))
    assert re.search(r"Patient/p40", page.content())
