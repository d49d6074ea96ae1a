"""Command line: ``cds assess PATH… [--json] [--as-of DATE]``, ``cds demo``, ``cds serve`` …

``cds assess`` takes files and directories: each patient is assessed in the same process, so a
batch pays the start-up (imports, FHIR models) once. One input prints as before; several print one
result per patient (``--json``: one JSON object per line, with its ``input``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from cds.errors import InputError
from cds.jsonfile import read_json_file

DEMO_FIXTURE = "nct00919009_eligible.json"  # a fixture with a hand-worked result


def parse_as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def run_assess(path: Path, as_of: date, as_json: bool) -> str:
    from cds.pipeline import assess_document

    result = assess_document(read_json_file(path), as_of)
    if as_json:
        return json.dumps(result, indent=2, ensure_ascii=False)
    from cds.report.text import to_text  # only for text: its templates cost start-up time

    return to_text(result)


def is_patient_document(data: object) -> bool:
    """A FHIR Bundle or resource, or a CDS Hooks request (what ``assess`` reads)."""
    return isinstance(data, dict) and ("resourceType" in data or "hookInstance" in data)


def read_input(path: Path) -> Any:
    """A file's document, or the :class:`InputError` that reading it raised (reported later)."""
    try:
        return read_json_file(path)
    except InputError as exc:
        return exc


def inputs_of(paths: list[Path]) -> Iterator[tuple[Path, Any]]:
    """Each input with its document (or its read error), each file read once and one at a time:
    files as given; a directory's ``*.json`` files that hold a patient, sorted (others are named
    on stderr as skipped, e.g. the fixtures' ``.expected.json``)."""
    for path in paths:
        if not path.is_dir():
            yield path, read_input(path)
            continue
        for file in sorted(path.glob("*.json")):
            document = read_input(file)
            if isinstance(document, InputError) or is_patient_document(document):
                yield file, document
            else:
                print(f"cds: skipped {file}: not a Bundle or CDS Hooks request", file=sys.stderr)


def run_batch(paths: list[Path], as_of: date, as_json: bool) -> int:
    """One result per patient; an unreadable input is reported and the others still run."""
    from cds.pipeline import assess_document

    failed = 0
    for path, document in inputs_of(paths):
        try:
            if isinstance(document, InputError):
                raise document
            result = assess_document(document, as_of)
        except InputError as exc:
            failed += 1
            print(f"cds: error: {exc}", file=sys.stderr)
            if as_json:
                print(json.dumps({"input": str(path), "error": str(exc)}, ensure_ascii=False))
            continue
        if as_json:
            print(json.dumps({"input": str(path), **result}, ensure_ascii=False))
        else:
            from cds.report.text import to_text

            print(f"=== {path}\n{to_text(result)}")
    return 2 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds", description="HCC clinical decision support")
    sub = parser.add_subparsers(dest="command", required=True)
    assess = sub.add_parser(
        "assess", help="assess FHIR Bundles or CDS Hooks requests (files or directories)"
    )
    assess.add_argument("paths", type=Path, nargs="+", metavar="PATH")
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
    load = sub.add_parser(
        "load-fixtures", help="load fixtures into a FHIR server (PUT, ids kept); env FHIR_TOKEN"
    )
    load.add_argument("--fhir-server", required=True, help="FHIR R4 base URL")
    load.add_argument("paths", type=Path, nargs="*", metavar="PATH", help="default: the fixtures")
    hook = sub.add_parser(
        "hook-request", help="print the CDS Hooks request for a fixture, prefetch as declared"
    )
    hook.add_argument("file", type=Path)
    hook.add_argument(
        "--hook", default="patient-view", choices=("patient-view", "order-select", "order-sign")
    )
    hook.add_argument("--fhir-server", default=None, help="sent as fhirServer")
    hook.add_argument(
        "--no-prefetch", action="store_true", help="send no prefetch: the service reads fhirServer"
    )
    hook.add_argument(
        "--draft",
        action="append",
        choices=("tace", "sorafenib"),
        default=[],
        help="order hooks: a draft order to send (repeatable)",
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


def run_load_fixtures(base_url: str, paths: list[Path]) -> int:
    from cds.integration.fixtures import fixture_files
    from cds.integration.load import load_files
    from cds.paths import data_dir

    files = fixture_files(paths or [data_dir("fhir_fixtures")])

    def report(loaded: Any) -> None:
        patients = ", ".join(f"Patient/{p}" for p in loaded.patient_ids)
        print(f"loaded {loaded.path}: {loaded.resources} resources ({patients})")

    load_files(files, base_url, os.environ.get("FHIR_TOKEN") or None, report)
    return 0


def run_hook_request(args: argparse.Namespace) -> str:
    from cds.integration.fixtures import fixture_resources
    from cds.integration.hook_request import draft_orders, hook_request
    from cds.service.discovery import load_discovery

    resources = fixture_resources(read_json_file(args.file))
    patients = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    if len(patients) != 1:
        raise InputError(f"{args.file}: {len(patients)} Patients; a hook request needs one")
    service = next(s for s in load_discovery()["services"] if s["hook"] == args.hook)
    context: dict[str, Any] = {"userId": "Practitioner/example", "patientId": patients[0]}
    if args.hook != "patient-view":
        context["draftOrders"] = draft_orders(patients[0], args.draft)
    if args.hook == "order-select":
        context["selections"] = [
            f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in context["draftOrders"]["entry"]
        ]
    request = hook_request(resources, service, context, args.fhir_server, not args.no_prefetch)
    return json.dumps(request, indent=2, ensure_ascii=False)


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
        if args.command == "load-fixtures":
            return run_load_fixtures(args.fhir_server, args.paths)
        if args.command == "hook-request":
            print(run_hook_request(args))
            return 0
        if args.command == "feedback-report":
            print(run_feedback_report(args.database))
            return 0
        as_of = args.as_of or date.today()
        if len(args.paths) == 1 and not args.paths[0].is_dir():
            print(run_assess(args.paths[0], as_of, args.json))
            return 0
        return run_batch(args.paths, as_of, args.json)
    except InputError as exc:
        print(f"cds: error: {exc}", file=sys.stderr)
        return 2


ONE_SHOT = ("assess", "demo")  # commands that run once and exit: worth the faster start-up


def console() -> int:
    """The ``cds`` command: :func:`main`, with a faster start and exit for one-shot commands.

    ``assess`` and ``demo`` load the FHIR models in a forked validation worker while this process
    imports the clinical core (two cores at work instead of one), and end with ``os._exit`` once
    their output is flushed: the interpreter's teardown of the loaded modules (≈ 0.15 s) does
    nothing a finished assessment needs. Tests call :func:`main`, which does neither.
    """
    argv = sys.argv[1:]
    if not argv or argv[0] not in ONE_SHOT:
        return main(argv)
    from cds.fhir.validation_worker import start

    worker = start()
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped reading (`cds assess … | head`): not our error
        code = 128 + 13  # as a process killed by SIGPIPE reports it
    sys.stderr.flush()
    if worker is not None:
        worker.close()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(console())
