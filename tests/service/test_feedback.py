"""CDS Hooks 2.0 feedback: validation (cds-fb-1..3), de-duplicated storage and the report."""

from __future__ import annotations

import copy
import signal
import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from cds.errors import CdsError
from cds.service.feedback import (
    Coding,
    FeedbackItem,
    FeedbackStore,
    InvalidFeedback,
    Outcome,
    OverrideReason,
    ReasonCount,
    ReportRow,
    format_report,
    parse_feedback,
)

SERVICE = "hcc-staging"
REASONS = "http://example.org/cds/override-reason"
WHEN = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)

ACCEPTED = {
    "card": "card-1",
    "outcome": "accepted",
    "acceptedSuggestions": [{"id": "sugg-tace"}],
    "outcomeTimestamp": "2024-03-01T09:30:00Z",
}
OVERRIDDEN = {
    "card": "card-2",
    "outcome": "overridden",
    "overrideReason": {
        "reason": {"system": REASONS, "code": "contraindicated", "display": "Contraindicated"},
        "userComment": "Portal vein thrombosis on last CT",
    },
    "outcomeTimestamp": "2024-03-01T10:30:00+01:00",
}


@pytest.fixture
def store(tmp_path):
    """A feedback store on a fresh file, closed after the test."""
    opened = FeedbackStore(str(tmp_path / "feedback.sqlite"))
    yield opened
    opened.close()


def item(card, outcome=Outcome.ACCEPTED, when=WHEN, suggestions=("s1",), reason=None):
    """A FeedbackItem built directly (already valid)."""
    return FeedbackItem(card, outcome, when, tuple(suggestions), reason)


def overridden(card, code=None, display=None, comment=None):
    """An overridden FeedbackItem with a coded reason and/or comment."""
    coding = None if code is None else Coding(REASONS, code, display)
    return item(card, Outcome.OVERRIDDEN, suggestions=(), reason=OverrideReason(coding, comment))


# --- parsing -------------------------------------------------------------------------------------


def test_parses_accepted_and_overridden_items():
    """A batch of one accepted and one overridden item parses into typed items, times in UTC."""
    items = parse_feedback({"feedback": [ACCEPTED, OVERRIDDEN]})
    assert items == [
        FeedbackItem("card-1", Outcome.ACCEPTED, WHEN, ("sugg-tace",), None),
        FeedbackItem(
            "card-2",
            Outcome.OVERRIDDEN,
            WHEN,
            (),
            OverrideReason(
                Coding(REASONS, "contraindicated", "Contraindicated"),
                "Portal vein thrombosis on last CT",
            ),
        ),
    ]


@pytest.mark.parametrize(
    "override_reason",
    [
        {"reason": {"system": REASONS, "code": "patient-declined"}},
        {"userComment": "Discussed at tumour board"},
    ],
    ids=["reason-only", "comment-only"],
)
def test_override_reason_needs_only_one_part(override_reason):
    """An overrideReason with only a coded reason, or only a comment, is valid (cds-fb-3)."""
    body = {"feedback": [{**OVERRIDDEN, "overrideReason": override_reason}]}
    assert parse_feedback(body)[0].override_reason is not None


def test_overridden_without_reason_is_valid():
    """overrideReason is optional: an overridden item may omit it."""
    entry = {key: value for key, value in OVERRIDDEN.items() if key != "overrideReason"}
    assert parse_feedback({"feedback": [entry]})[0].override_reason is None


def test_empty_batch_is_valid():
    """An empty feedback array parses to no items."""
    assert parse_feedback({"feedback": []}) == []


def with_change(entry, path, value):
    """A deep copy of ``entry`` with the field at ``path`` set to ``value`` (or removed)."""
    changed = copy.deepcopy(entry)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is REMOVE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


REMOVE = object()

INVALID_ITEMS = [
    pytest.param(ACCEPTED, ("card",), REMOVE, r"feedback\[0\]\.card: must be", id="no-card"),
    pytest.param(ACCEPTED, ("card",), 7, r"feedback\[0\]\.card: must be", id="card-number"),
    pytest.param(
        ACCEPTED,
        ("outcome",),
        "ignored",
        r"feedback\[0\]\.outcome: must be accepted or overridden",
        id="cds-fb-1-outcome",
    ),
    pytest.param(ACCEPTED, ("outcome",), REMOVE, r"feedback\[0\]\.outcome", id="no-outcome"),
    pytest.param(
        ACCEPTED,
        ("acceptedSuggestions",),
        REMOVE,
        r"feedback\[0\]\.acceptedSuggestions.*cds-fb-2",
        id="cds-fb-2-missing",
    ),
    pytest.param(
        ACCEPTED,
        ("acceptedSuggestions",),
        [],
        r"feedback\[0\]\.acceptedSuggestions.*cds-fb-2",
        id="cds-fb-2-empty",
    ),
    pytest.param(
        ACCEPTED,
        ("acceptedSuggestions",),
        {"id": "x"},
        r"feedback\[0\]\.acceptedSuggestions: ",
        id="suggestions-not-array",
    ),
    pytest.param(
        ACCEPTED,
        ("acceptedSuggestions", 0, "id"),
        REMOVE,
        r"feedback\[0\]\.acceptedSuggestions\[0\]\.id",
        id="suggestion-without-id",
    ),
    pytest.param(
        OVERRIDDEN,
        ("overrideReason",),
        {},
        r"feedback\[0\]\.overrideReason: .*cds-fb-3",
        id="cds-fb-3-empty",
    ),
    pytest.param(
        OVERRIDDEN,
        ("overrideReason",),
        {"userComment": "  "},
        r"feedback\[0\]\.overrideReason: .*cds-fb-3",
        id="cds-fb-3-blank-comment",
    ),
    pytest.param(
        OVERRIDDEN,
        ("overrideReason", "reason", "system"),
        REMOVE,
        r"feedback\[0\]\.overrideReason\.reason\.system",
        id="coding-without-system",
    ),
    pytest.param(
        OVERRIDDEN,
        ("overrideReason", "reason", "code"),
        REMOVE,
        r"feedback\[0\]\.overrideReason\.reason\.code",
        id="coding-without-code",
    ),
    pytest.param(
        OVERRIDDEN,
        ("overrideReason", "reason"),
        "contraindicated",
        r"feedback\[0\]\.overrideReason\.reason: must be a Coding",
        id="reason-not-coding",
    ),
    pytest.param(
        OVERRIDDEN,
        ("overrideReason", "userComment"),
        42,
        r"feedback\[0\]\.overrideReason\.userComment",
        id="comment-not-string",
    ),
    pytest.param(
        ACCEPTED,
        ("outcomeTimestamp",),
        REMOVE,
        r"feedback\[0\]\.outcomeTimestamp: must be an RFC",
        id="no-timestamp",
    ),
    pytest.param(
        ACCEPTED,
        ("outcomeTimestamp",),
        "2024-03-01T09:30:00",
        r"feedback\[0\]\.outcomeTimestamp: must carry a timezone",
        id="timestamp-without-timezone",
    ),
    pytest.param(
        ACCEPTED,
        ("outcomeTimestamp",),
        "2024-03-01",
        r"feedback\[0\]\.outcomeTimestamp",
        id="date-only",
    ),
    pytest.param(
        ACCEPTED,
        ("outcomeTimestamp",),
        "yesterday",
        r"feedback\[0\]\.outcomeTimestamp",
        id="not-a-date",
    ),
    pytest.param(
        ACCEPTED,
        ("outcomeTimestamp",),
        "2024-02-30T09:30:00Z",
        r"feedback\[0\]\.outcomeTimestamp: not a valid",
        id="impossible-date",
    ),
]


@pytest.mark.parametrize(("entry", "path", "value", "message"), INVALID_ITEMS)
def test_invalid_item_names_index_and_field(entry, path, value, message):
    """Each broken rule raises InvalidFeedback naming the item index and the field."""
    with pytest.raises(InvalidFeedback, match=message):
        parse_feedback({"feedback": [with_change(entry, path, value)]})


@pytest.mark.parametrize(
    "body", [None, [], {"feedback": {}}, {"cards": []}], ids=["null", "array", "object", "no-key"]
)
def test_body_without_feedback_array_refused(body):
    """A body that is not ``{"feedback": [...]}`` is refused."""
    with pytest.raises(InvalidFeedback, match="'feedback' array"):
        parse_feedback(body)


def test_error_names_the_failing_item_in_a_batch():
    """In a batch, the error names the index of the bad item, not the first one."""
    bad = with_change(ACCEPTED, ("outcome",), "dismissed")
    with pytest.raises(InvalidFeedback, match=r"feedback\[2\]\.outcome"):
        parse_feedback({"feedback": [ACCEPTED, OVERRIDDEN, bad]})


def test_invalid_feedback_is_a_400_cds_error():
    """InvalidFeedback maps to HTTP 400 through the CdsError handler."""
    assert issubclass(InvalidFeedback, CdsError)
    assert InvalidFeedback.status_code == 400


# --- storage -------------------------------------------------------------------------------------


def test_batch_stored(store):
    """Distinct items in one batch are all stored."""
    assert store.add(SERVICE, [item("a"), item("b"), overridden("c", comment="no")]) == (3, 0)


def test_duplicate_deliveries_stored_once(store):
    """The same feedback delivered twice in a batch and again later is stored once."""
    assert store.add(SERVICE, [item("a"), item("a")]) == (1, 1)
    assert store.add(SERVICE, [item("a")]) == (0, 1)
    assert store.report()[0].accepted == 1


def test_same_instant_in_another_offset_is_a_duplicate(store):
    """09:30Z and 10:30+01:00 are one outcome time, so the second delivery is a duplicate."""
    first = parse_feedback({"feedback": [ACCEPTED]})
    second = parse_feedback(
        {"feedback": [{**ACCEPTED, "outcomeTimestamp": "2024-03-01T10:30:00+01:00"}]}
    )
    store.add(SERVICE, first)
    assert store.add(SERVICE, second) == (0, 1)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(item("a", when=datetime(2024, 3, 1, 9, 31, tzinfo=UTC)), id="later"),
        pytest.param(item("a", suggestions=("s2",)), id="other-suggestion"),
        pytest.param(overridden("a", comment="not now"), id="overridden"),
    ],
)
def test_distinct_outcomes_for_one_card_are_kept(store, other):
    """A different time, suggestion or outcome for the same card is new feedback."""
    store.add(SERVICE, [item("a")])
    assert store.add(SERVICE, [other]) == (1, 0)


def test_feedback_survives_restart(tmp_path):
    """Feedback written before closing is there after reopening the same file."""
    path = str(tmp_path / "feedback.sqlite")
    before = FeedbackStore(path)
    before.record_cards(SERVICE, [("a", "tace")])
    before.add(SERVICE, [item("a")])
    before.close()
    after = FeedbackStore(path)
    try:
        assert after.add(SERVICE, [item("a")]) == (0, 1)
        assert after.report() == [ReportRow(SERVICE, "tace", 1, 1, 0)]
    finally:
        after.close()


def test_acknowledged_feedback_survives_sigkill(tmp_path):
    """A process killed with SIGKILL right after add() returns loses none of that feedback."""
    path = tmp_path / "feedback.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import UTC, datetime
        from cds.service.feedback import FeedbackItem, FeedbackStore, Outcome
        when = datetime(2024, 3, 1, tzinfo=UTC)
        items = [FeedbackItem(f"card-{{n}}", Outcome.ACCEPTED, when, ("s",)) for n in range(20)]
        FeedbackStore({str(path)!r}).add("{SERVICE}", items)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == -signal.SIGKILL
    reopened = FeedbackStore(str(path))
    try:
        assert reopened.report()[0].accepted == 20
    finally:
        reopened.close()


def test_concurrent_adds_lose_nothing(store):
    """Eight threads adding fifty records each leave all four hundred stored."""

    def add_fifty(thread):
        return [store.add(SERVICE, [item(f"t{thread}-{n}")]) for n in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [outcome for batch in pool.map(add_fifty, range(8)) for outcome in batch]
    assert results == [(1, 0)] * 400
    assert store.report()[0].accepted == 400


def test_memory_store_is_shared_between_threads():
    """A ':memory:' store is one database for all threads of the process."""
    memory = FeedbackStore(":memory:")
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda n: memory.add(SERVICE, [item(f"m{n}")]), range(8)))
        assert memory.report()[0].accepted == 8
    finally:
        memory.close()


def test_failed_batch_stores_nothing(store):
    """A batch that fails part-way is rolled back as a whole."""
    broken = item(["not", "text"])  # SQLite cannot bind a list, so the second insert fails
    with pytest.raises(sqlite3.Error):
        store.add(SERVICE, [item("a"), broken])
    assert store.report() == []


def test_only_card_and_feedback_columns_are_stored(store, tmp_path):
    """The schema holds card ids, kinds, outcomes, reasons and comments, nothing about patients.

    The other tables of the same file: seen JWT ids, the work-up app's opaque session and PKCE
    state text (its own content is the app's concern), and the migration history.
    """
    store.add(SERVICE, [item("a")])
    connection = sqlite3.connect(tmp_path / "feedback.sqlite")
    try:
        tables = {
            table: {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    finally:
        connection.close()
    assert tables == {
        "issued_cards": {"uuid", "service", "kind", "issued_at"},
        "feedback": {
            "id",
            "service",
            "card",
            "outcome",
            "outcome_timestamp",
            "accepted_suggestions",
            "override_system",
            "override_code",
            "override_display",
            "user_comment",
            "received_at",
        },
        "replay": {"iss", "jti", "exp"},
        "app_sessions": {"id", "data", "expires_at"},
        "pkce_states": {"state", "data", "expires_at"},
        "schema_version": {"version", "name", "applied_at"},
    }


# --- report --------------------------------------------------------------------------------------


def test_report_groups_by_service_and_kind(store):
    """Counts and override reasons are grouped by service and card kind; strangers are unknown."""
    store.record_cards(SERVICE, [("a", "tace"), ("b", "tace"), ("c", "tace"), ("d", "sorafenib")])
    store.record_cards("hcc-trial", [("e", "eligibility")])
    store.add(
        SERVICE,
        [
            item("a"),
            overridden("b", "contraindicated", "Contraindicated", "PVT"),
            overridden("c", "contraindicated", "Contraindicated"),
            overridden("d", comment="patient prefers to wait"),
            overridden("zz"),
            item("e"),  # issued by another service, so its kind is unknown here
        ],
    )
    assert store.report() == [
        ReportRow("hcc-staging", "sorafenib", 1, 0, 1, (ReasonCount("free text", 1),)),
        ReportRow(
            "hcc-staging", "tace", 3, 1, 2, (ReasonCount("contraindicated (Contraindicated)", 2),)
        ),
        ReportRow("hcc-staging", "unknown", 0, 1, 1, (ReasonCount("no reason given", 1),)),
        ReportRow("hcc-trial", "eligibility", 1, 0, 0),
    ]


def test_recording_a_card_twice_keeps_the_first(store):
    """Re-recording a card uuid keeps its first kind and counts it once."""
    store.record_cards(SERVICE, [("a", "tace")])
    store.record_cards(SERVICE, [("a", "sorafenib")])
    assert store.report() == [ReportRow(SERVICE, "tace", 1, 0, 0)]


def test_format_report_is_a_readable_table():
    """The text report has a header, one line per row and its reasons beneath it."""
    text = format_report(
        [
            ReportRow("hcc-staging", "tace", 3, 1, 2, (ReasonCount("contraindicated", 2),)),
            ReportRow("hcc-trial", "eligibility", 10, 0, 0),
        ]
    )
    assert text.splitlines() == [
        "service      card kind    issued  accepted  overridden",
        "-----------  -----------  ------  --------  ----------",
        "hcc-staging  tace              3         1           2",
        "    override reason: contraindicated: 2",
        "hcc-trial    eligibility      10         0           0",
    ]


def test_format_empty_report():
    """An empty report says there is nothing yet."""
    assert format_report([]) == "No cards issued and no feedback recorded."
