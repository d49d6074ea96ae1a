"""Command line: ``cds assess FILE [--json] [--as-of DATE]`` and ``cds demo``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from cds.errors import InputError

DEMO_FIXTURE = "nct00919009_eligible.json"  # a fixture with a hand-worked result


def parse_as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def read_json(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not JSON: {exc}") from exc


def run_assess(path: Path, as_of: date, as_json: bool) -> str:
    from cds.pipeline import assess_document
    from cds.report.text import to_text

    result = assess_document(read_json(path), as_of)
    if as_json:
        return json.dumps(result, indent=2, ensure_ascii=False)
    return to_text(result)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds", description="HCC clinical decision support")
    sub = parser.add_subparsers(dest="command", required=True)
    assess = sub.add_parser("assess", help="assess a FHIR Bundle or CDS Hooks request")
    assess.add_argument("file", type=Path)
    assess.add_argument("--json", action="store_true", help="print the assessment as JSON")
    assess.add_argument(
        "--as-of", type=parse_as_of, default=None, help="assessment date (default: today)"
    )
    demo = sub.add_parser("demo", help="assess the built-in demo patient")
    demo.add_argument("--json", action="store_true")
    serve = sub.add_parser("serve", help="run the CDS Hooks service (waitress)")
    serve.add_argument(
        "--bind", default=None, help="address:port (default CDS_BIND or 127.0.0.1:8080)"
    )
    serve.add_argument(
        "--workers", type=int, default=None, help="processes (default CDS_WORKERS or one per core)"
    )
    report = sub.add_parser("feedback-report", help="accept/override counts per card kind")
    report.add_argument(
        "--database",
        default=None,
        help="SQLite file or postgresql:// URL"
        " (default CDS_DATABASE_URL, else CDS_DATABASE or instance/hcc-cds.sqlite3)",
    )
    return parser


def run_feedback_report(database: str | None) -> str:
    from cds.service.config import DEFAULTS
    from cds.service.feedback import FeedbackStore, format_report
    from cds.storage import POSTGRES_SCHEMES, StorageUnavailable, open_storage

    database = database or os.environ.get("CDS_DATABASE_URL") or os.environ.get("CDS_DATABASE")
    database = database or DEFAULTS["DATABASE"]
    postgres = database.startswith(POSTGRES_SCHEMES)
    if not postgres and not Path(database).exists():
        raise InputError(f"no feedback database at {database}")
    try:
        storage = open_storage(database if postgres else None, database)
        try:
            return format_report(FeedbackStore(storage).report())
        finally:
            storage.close()
    except StorageUnavailable as exc:
        raise InputError(f"the feedback database cannot be reached: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from cds.paths import data_dir

            path = data_dir("fhir_fixtures") / DEMO_FIXTURE
            expected = json.loads(path.with_suffix(".expected.json").read_text())
            print(run_assess(path, date.fromisoformat(expected["as_of"]), args.json))
            return 0
        if args.command == "serve":
            from cds.service.server import serve

            return serve(args.bind, args.workers)
        if args.command == "feedback-report":
            print(run_feedback_report(args.database))
            return 0
        print(run_assess(args.file, args.as_of or date.today(), args.json))
        return 0
    except InputError as exc:
        print(f"cds: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
