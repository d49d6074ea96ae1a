"""CDS Hooks 2.0 feedback: ``POST {base}/cds-services/{id}/feedback``.

When a CDS client reports what the user did with a card, then each item is validated against
the spec (cds-fb-1..3, RFC 3339 ``outcomeTimestamp``) and stored once, however often the client
re-delivers it (the spec says services must tolerate duplicate and batched feedback). A report
counts accepted and overridden cards per service and card kind, with the override reasons.

No patient data is stored: only card uuids, card kinds, outcomes, suggestion ids, override
reason codes and the clinician's free-text comment (which is stored as typed).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cds.errors import CdsError
from cds.storage import FeedbackRow, Storage, open_storage

FREE_TEXT = "free text"
NO_REASON = "no reason given"

# RFC 3339 §5.6 date-time; the offset group is optional here only so that its absence gets its
# own error message. re.ASCII: \d must not match other scripts' digits.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


class InvalidFeedback(CdsError):  # noqa: N818 -- name set by the service's API contract
    """The feedback body breaks the CDS Hooks 2.0 feedback rules."""

    status_code = 400


class Outcome(StrEnum):
    """What the user did with the card (cds-fb-1)."""

    ACCEPTED = "accepted"
    OVERRIDDEN = "overridden"


@dataclass(frozen=True)
class Coding:
    """The override reason the user picked from the card's ``overrideReasons``."""

    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class OverrideReason:
    """Why the user overrode the card: a coded reason, a comment, or both (cds-fb-3)."""

    reason: Coding | None = None
    user_comment: str | None = None


@dataclass(frozen=True)
class FeedbackItem:
    """One validated feedback entry; ``outcome_timestamp`` is in UTC."""

    card: str
    outcome: Outcome
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    override_reason: OverrideReason | None = None


@dataclass(frozen=True)
class ReasonCount:
    """How often one override reason was given (``label``: code and display, or free text)."""

    label: str
    count: int


@dataclass(frozen=True)
class ReportRow:
    """Feedback counts for one service and card kind."""

    service: str
    kind: str
    issued: int
    accepted: int
    overridden: int
    override_reasons: tuple[ReasonCount, ...] = ()


# --- parsing ---------------------------------------------------------------------------------


def parse_feedback(body: object) -> list[FeedbackItem]:
    """Validate a feedback request body ``{"feedback": [...]}``.

    :return: the items, in order.
    :raise InvalidFeedback: naming the first bad item and field, e.g.
        ``feedback[0].outcome: must be accepted or overridden``.
    """
    entries = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise InvalidFeedback("feedback: the body must be an object with a 'feedback' array")
    return [_parse_item(entry, f"feedback[{index}]") for index, entry in enumerate(entries)]


def _parse_item(entry: object, where: str) -> FeedbackItem:
    if not isinstance(entry, dict):
        raise InvalidFeedback(f"{where}: must be an object")
    outcome = _outcome(entry.get("outcome"), f"{where}.outcome")
    return FeedbackItem(
        card=_text(entry.get("card"), f"{where}.card"),
        outcome=outcome,
        outcome_timestamp=_timestamp(entry.get("outcomeTimestamp"), f"{where}.outcomeTimestamp"),
        accepted_suggestions=_accepted_suggestions(
            entry.get("acceptedSuggestions"), outcome, f"{where}.acceptedSuggestions"
        ),
        override_reason=_override_reason(entry.get("overrideReason"), f"{where}.overrideReason"),
    )


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFeedback(f"{where}: must be a non-empty string")
    return value


def _outcome(value: object, where: str) -> Outcome:
    if value not in (Outcome.ACCEPTED.value, Outcome.OVERRIDDEN.value):
        raise InvalidFeedback(f"{where}: must be accepted or overridden (cds-fb-1)")
    return Outcome(value)


def _timestamp(value: object, where: str) -> datetime:
    text = value if isinstance(value, str) else ""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InvalidFeedback(f"{where}: must be an RFC 3339 date-time, e.g. 1985-04-12T23:20:50Z")
    if match["offset"] is None:
        raise InvalidFeedback(f"{where}: must carry a timezone (Z or ±hh:mm)")
    try:
        parsed = datetime.fromisoformat(text.upper())  # RFC 3339 allows a lower-case t and z
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # 2024-02-30, hour 24, or year 1 at +01:00
        raise InvalidFeedback(f"{where}: not a valid date-time") from exc


def _accepted_suggestions(value: object, outcome: Outcome, where: str) -> tuple[str, ...]:
    value = [] if value is None else value
    if not isinstance(value, list):
        raise InvalidFeedback(f"{where}: must be an array of objects with an id")
    if outcome is Outcome.ACCEPTED and not value:
        raise InvalidFeedback(f"{where}: required and non-empty when accepted (cds-fb-2)")
    return tuple(_suggestion_id(item, f"{where}[{index}]") for index, item in enumerate(value))


def _suggestion_id(item: object, where: str) -> str:
    if not isinstance(item, dict):
        raise InvalidFeedback(f"{where}: must be an object with an id")
    return _text(item.get("id"), f"{where}.id")


def _override_reason(value: object, where: str) -> OverrideReason | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidFeedback(f"{where}: must be an object")
    comment = value.get("userComment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidFeedback(f"{where}.userComment: must be a string")
    reason = value.get("reason")
    comment = comment if comment and comment.strip() else None
    if reason is None and comment is None:
        raise InvalidFeedback(f"{where}: must hold a reason, a userComment or both (cds-fb-3)")
    coding = None if reason is None else _coding(reason, f"{where}.reason")
    return OverrideReason(reason=coding, user_comment=comment)


def _coding(value: object, where: str) -> Coding:
    if not isinstance(value, dict):
        raise InvalidFeedback(f"{where}: must be a Coding object")
    display = value.get("display")
    if display is not None and not isinstance(display, str):
        raise InvalidFeedback(f"{where}.display: must be a string")
    return Coding(
        system=_text(value.get("system"), f"{where}.system"),
        code=_text(value.get("code"), f"{where}.code"),
        display=display or None,
    )


# --- storage ---------------------------------------------------------------------------------


class FeedbackStore:
    """Issued cards and their feedback, kept by a storage engine (:mod:`cds.storage`).

    :param storage: the engine, or a SQLite file path (``":memory:"`` for tests), which this
        store then opens and closes itself.
    :param now: the clock for ``issued_at`` and ``received_at`` (aware, UTC).
    """

    def __init__(
        self, storage: Storage | str, *, now: Callable[[], datetime] | None = None
    ) -> None:
        self._owned = isinstance(storage, str)
        self._storage = open_storage(None, storage) if isinstance(storage, str) else storage
        self._now = now or (lambda: datetime.now(UTC))

    def record_cards(self, service: str, cards: list[tuple[str, str]]) -> None:
        """Remember the cards a service returned, as ``(uuid, kind)`` pairs, in one transaction.

        A uuid recorded before keeps its first service and kind.
        """
        self._storage.record_cards(service, cards, self._now().isoformat())

    def add(self, service: str, items: list[FeedbackItem]) -> tuple[int, int]:
        """Store feedback items in one transaction, committed before returning.

        :return: ``(stored, duplicates)``; a duplicate is an item already stored (earlier or
            in this batch) and is not stored again.
        :raise StorageUnavailable: if the database cannot take them (nothing was stored).
        """
        received_at = self._now().isoformat()
        stored = self._storage.add_feedback([_feedback_row(service, i, received_at) for i in items])
        return stored, len(items) - stored

    def report(self) -> list[ReportRow]:
        """Counts per service and card kind, sorted; kind ``unknown`` for cards not issued here."""
        counts = self._storage.feedback_counts()
        return _report_rows(counts.issued, counts.outcomes, counts.reasons)

    def close(self) -> None:
        """Close the engine if this store opened it; later calls open new connections."""
        if self._owned:
            self._storage.close()


def _feedback_row(service: str, item: FeedbackItem, received_at: str) -> FeedbackRow:
    override = item.override_reason or OverrideReason()
    coding = override.reason or Coding(system="", code="")
    # Sorted and de-duplicated so that the same set of suggestions always gives the same key.
    suggestions = json.dumps(sorted(set(item.accepted_suggestions)))
    return FeedbackRow(
        service=service,
        card=item.card,
        outcome=item.outcome.value,
        outcome_timestamp=item.outcome_timestamp.astimezone(UTC).isoformat(),
        accepted_suggestions=suggestions,
        override_system=coding.system,
        override_code=coding.code,
        override_display=coding.display or "",
        user_comment=override.user_comment or "",
        received_at=received_at,
    )


# --- report ----------------------------------------------------------------------------------


def _report_rows(
    issued: list[tuple[str, str, int]],
    outcomes: list[tuple[str, str, int, int]],
    reasons: list[tuple[str, str, str, str, int, int]],
) -> list[ReportRow]:
    issued_counts = {(service, kind): count for service, kind, count in issued}
    outcome_counts = {(service, kind): (acc, over) for service, kind, acc, over in outcomes}
    reason_counts: dict[tuple[str, str], Counter[str]] = {}
    for service, kind, code, display, has_comment, count in reasons:
        label = _reason_label(code, display, bool(has_comment))
        reason_counts.setdefault((service, kind), Counter())[label] += count
    rows = []
    for key in sorted(issued_counts.keys() | outcome_counts.keys()):
        accepted, overridden = outcome_counts.get(key, (0, 0))
        ranked = sorted(reason_counts.get(key, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(
            ReportRow(
                service=key[0],
                kind=key[1],
                issued=issued_counts.get(key, 0),
                accepted=accepted,
                overridden=overridden,
                override_reasons=tuple(ReasonCount(label, count) for label, count in ranked),
            )
        )
    return rows


def _reason_label(code: str, display: str, has_comment: bool) -> str:
    if code:
        return f"{code} ({display})" if display else code
    return FREE_TEXT if has_comment else NO_REASON


_COLUMNS = ("service", "card kind", "issued", "accepted", "overridden")


def format_report(rows: Sequence[ReportRow]) -> str:
    """A plain-text table of :meth:`FeedbackStore.report` rows for ``cds feedback-report``.

    Each row is followed by its override reasons, most frequent first.
    """
    if not rows:
        return "No cards issued and no feedback recorded."
    cells = [_COLUMNS] + [
        (row.service, row.kind, str(row.issued), str(row.accepted), str(row.overridden))
        for row in rows
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(len(_COLUMNS))]
    lines = [_table_line(cells[0], widths), _table_line(tuple("-" * w for w in widths), widths)]
    for row, line in zip(rows, cells[1:], strict=True):
        lines.append(_table_line(line, widths))
        lines.extend(f"    override reason: {r.label}: {r.count}" for r in row.override_reasons)
    return "\n".join(lines)


def _table_line(cells: Sequence[str], widths: Sequence[int]) -> str:
    # Text columns (service, kind) left-aligned, counts right-aligned.
    parts = [
        cell.ljust(width) if index < 2 else cell.rjust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(parts).rstrip()
