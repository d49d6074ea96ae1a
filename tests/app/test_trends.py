"""The trend plots of the trends fixture against the points worked out by hand
(fhir_fixtures/README.md, "trend_12_months: the plot points, worked by hand")."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from cds.app.trends import build_trends, months_before
from cds.fhir.record import load_record
from tests.app.conftest import make_app

FIXTURE = Path(__file__).resolve().parents[2] / "fhir_fixtures" / "trend_12_months.json"
AS_OF = date(2026, 11, 15)

HAND_WORKED = {
    "bilirubin": [
        ("2025-11-20", "1.1"),
        ("2026-01-15", "1.3"),
        ("2026-03-12", "1.6"),
        ("2026-05-14", "2"),
        ("2026-07-09", "2.2"),
        ("2026-09-10", "2.6"),
        ("2026-11-12", "3.2"),
    ],
    "albumin": [
        ("2025-11-20", "3.9"),
        ("2026-01-15", "3.7"),
        ("2026-03-12", "3.5"),
        ("2026-05-14", "3.3"),
        ("2026-07-09", "3"),
        ("2026-09-10", "2.9"),
        ("2026-11-12", "2.7"),
    ],
    "inr": [
        ("2025-11-20", "1.1"),
        ("2026-02-05", "1.2"),
        ("2026-05-14", "1.3"),
        ("2026-07-09", "1.4"),
        ("2026-09-10", "1.5"),
        ("2026-11-12", "1.8"),
    ],
    "platelets": [
        ("2025-11-20", "150"),
        ("2026-01-15", "140"),
        ("2026-03-12", "128"),
        ("2026-05-14", "115"),
        ("2026-07-09", "104"),
        ("2026-09-10", "98"),
        ("2026-11-12", "91"),
    ],
    "creatinine": [
        ("2025-11-20", "0.9"),
        ("2026-03-12", "1"),
        ("2026-07-09", "1.1"),
        ("2026-11-12", "1.3"),
    ],
    "afp": [
        ("2025-11-20", "12"),
        ("2026-03-12", "40"),
        ("2026-05-14", "85"),
        ("2026-09-10", "120"),
        ("2026-11-12", "310"),
    ],
    "child_pugh": [
        ("2025-11-20", "5 A"),
        ("2026-02-05", "5 A"),
        ("2026-05-14", "7 B"),
        ("2026-07-09", "8 B"),
        ("2026-09-10", "8 B"),
        ("2026-11-12", "11 C"),
    ],
    "albi": [
        ("2025-11-20", "-2.47 (2)"),
        ("2026-01-15", "-2.26 (2)"),
        ("2026-03-12", "-2.03 (2)"),
        ("2026-05-14", "-1.79 (2)"),
        ("2026-07-09", "-1.51 (2)"),
        ("2026-09-10", "-1.38 (3)"),
        ("2026-11-12", "-1.15 (3)"),
    ],
    "tumour_size": [("2026-02-20", "3.1"), ("2026-08-25", "4.4")],
}
CHILD_PUGH_NOT_COMPUTED = [("2026-01-15", 5, 7), ("2026-03-12", 6, 8), ("2026-06-20", 6, 12)]
CUTOFFS = {
    "bilirubin": [2.0, 3.0],
    "albumin": [3.5, 2.8],
    "inr": [1.5, 1.7, 2.3],
    "platelets": [60],
    "creatinine": [1.65],
    "afp": [],
    "child_pugh": [7, 10],
    "albi": [-2.6, -1.39],
    "tumour_size": [10.0],
}


@pytest.fixture(scope="module")
def trends():
    record = load_record(json.loads(FIXTURE.read_text(encoding="utf-8")))
    return build_trends(record, AS_OF, 12)


def all_series(trends):
    return {s.key: s for s in [*trends.labs, trends.child_pugh, trends.albi, trends.tumour_size]}


@pytest.mark.parametrize("key", sorted(HAND_WORKED))
def test_points_are_the_hand_worked_ones(trends, key):
    got = [(p.day.isoformat(), p.shown) for p in all_series(trends)[key].points]
    assert got == HAND_WORKED[key]


@pytest.mark.parametrize("key", sorted(CUTOFFS))
def test_cut_offs_drawn(trends, key):
    assert [c.value for c in all_series(trends)[key].cutoffs] == CUTOFFS[key]


def test_child_pugh_not_computed_where_a_lab_is_older_than_30_days(trends):
    gaps = [(g.day.isoformat(), g.low, g.high) for g in trends.child_pugh.gaps]
    assert gaps == CHILD_PUGH_NOT_COMPUTED
    assert "INR 1.1, 2025-11-20: older than 30 days" in trends.child_pugh.gaps[0].why


def test_window_defaults_to_twelve_months_and_excludes_older_results(trends):
    assert (trends.start, trends.end) == (date(2025, 11, 15), AS_OF)
    assert all(p.day >= trends.start for s in all_series(trends).values() for p in s.points)


def test_window_is_configurable():
    record = load_record(json.loads(FIXTURE.read_text(encoding="utf-8")))
    six = build_trends(record, AS_OF, 6)
    assert six.start == date(2026, 5, 15)
    assert [p.day.isoformat() for p in six.child_pugh.points] == [
        "2026-07-09",
        "2026-09-10",
        "2026-11-12",
    ]


@pytest.mark.parametrize(
    ("day", "months", "start"),
    [
        (date(2026, 11, 15), 12, date(2025, 11, 15)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 10), 1, date(2025, 12, 10)),
        (date(2026, 5, 31), 24, date(2024, 5, 31)),
    ],
)
def test_months_before(day, months, start):
    assert months_before(day, months) == start


def test_tumour_timeline_lists_each_assessment(trends):
    days = [day.isoformat() for day, _ in trends.timeline]
    assert days == ["2026-02-20", "2026-08-25"]
    findings = dict(trends.timeline[1][1])
    assert findings["nodule_count"] == "3" and findings["largest_cm"] == "44 mm"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("demo"), APP_DEMO=True)
    response = app.test_client().get("/app/demo")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def svg_points(html: str, key: str) -> list[tuple[str, str]]:
    svg = re.search(rf'<svg[^>]*data-series="{key}".*?</svg>', html, re.S)
    assert svg, key
    return re.findall(r'class="point"[^>]*data-date="([^"]+)" data-value="([^"]+)"', svg.group(0))


@pytest.mark.parametrize("key", sorted(HAND_WORKED))
def test_each_plot_on_the_page_has_its_points_and_a_values_table(page, key):
    want_days = [d for d, _ in HAND_WORKED[key]]
    assert [d for d, _ in svg_points(page, key)] == want_days
    table = re.search(rf'<table class="values" data-series="{key}">.*?</table>', page, re.S)
    assert table, key
    rows = re.findall(r'<tr class="point-row"><td>([^<]+)</td><td>([^<]+)</td>', table.group(0))
    assert rows == HAND_WORKED[key]


def test_page_states_the_window_and_why_scores_were_not_computed(page):
    assert "Last 12 months (2025-11-15 to 2026-11-15)" in page
    assert "range 6–12: Bilirubin 34.2 µmol/L (2 mg/dL), 2026-05-14: older than 30 days" in page
    assert "<li>number of nodules: 3</li>" in page  # the timeline names findings as the card does


def test_plots_carry_words_not_only_colour(page):
    svg = re.search(r'<svg[^>]*data-series="bilirubin".*?</svg>', page, re.S).group(0)
    assert "3 mg/dL: 3 points above; trial limit" in svg  # the cut-off is named on the plot
    assert 'stroke-dasharray="6 4"' in svg  # and drawn dashed, unlike the values
    assert svg.count('class="value"') == len(HAND_WORKED["bilirubin"])  # each value written


def test_window_setting_reaches_the_page(tmp_path):
    app = make_app(tmp_path, APP_DEMO=True, APP_TREND_MONTHS=6)
    html = app.test_client().get("/app/demo").get_data(as_text=True)
    assert "Last 6 months (2026-05-15 to 2026-11-15)" in html
    assert [d for d, _ in svg_points(html, "child_pugh")] == [
        "2026-07-09",
        "2026-09-10",
        "2026-11-12",
    ]
