"""Hypothesis strategies for malformed CDS Hooks requests, FHIR resources and feedback bodies.

Most requests are *recipes*: a real fixture request (``tests/api/requests_from_fixtures.py``) and a
few mutations applied to it, so that an example gets deep into extraction and assessment before it
meets the broken part. A recipe prints as a short reproducer (fixture name and mutations, with long
values abbreviated) instead of a 20 kB request. Requests built from scratch, raw bodies, feedback
bodies and the answers of a fake FHIR server complete the set.

Nothing here reaches the network: :class:`FakeFhirServer` replaces the service's HTTP session and
refuses every request unless a test gives it answers.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from cds.fhir import codes
from tests.api.requests_from_fixtures import FIXTURES, hook_request, prefetch_of

Json = Any
Path = tuple[str | int, ...]  # str: a dict key; int: an index, taken modulo the container's size

FIXTURE_NAMES = tuple(
    sorted(p.stem for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))
)
PATIENT_VIEW = "patient-view"
ORDER_HOOKS = ("order-select", "order-sign")
HOOKS = (PATIENT_VIEW, *ORDER_HOOKS)
SERVICE_OF_HOOK = {
    PATIENT_VIEW: "hcc-assessment",
    "order-select": "hcc-order-check",
    "order-sign": "hcc-order-check",
}
PREFETCH_KEYS = ("patient", "labs", "findings", "conditions", "procedures")
BUNDLE_KEYS = PREFETCH_KEYS[1:]
FHIR_BASE = "https://ehr.fuzz.invalid/fhir"
HUGE = 100_000  # characters in a "huge" string (100 kB to 1.8 MB of JSON, by character)

# Shared by every property test: reproducible in CI, no example database, no timing health check.
BASE_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# --- abbreviations for reproducers -----------------------------------------------------------


def short(value: Json, limit: int = 120) -> str:
    """A value's Python repr, abbreviated past ``limit`` characters (with its full length)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…<{len(text)} chars>"


class Printable:
    """Hypothesis prints drawn objects with ``_repr_pretty_`` when they have one: use ``repr``."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Huge(str, Printable):
    """A long string that prints as its recipe, not as its 100 000 characters."""

    recipe: str

    def __new__(cls, unit: str, length: int) -> Huge:
        text = super().__new__(cls, (unit * (length // len(unit) + 1))[:length])
        text.recipe = f"{unit!r}, {length}"
        return text

    def __repr__(self) -> str:
        return f"Huge({self.recipe})"


def nested(depth: int, kind: str, leaf: Json = "bottom") -> Json:
    """``depth`` levels of lists (``kind == "list"``), objects or both alternating."""
    value = leaf
    for level in range(depth):
        use_list = kind == "list" or (kind == "mixed" and level % 2 == 0)
        value = [value] if use_list else {"nested": value}
    return value


class Deep(Printable):
    """A deeply nested JSON value, printed as its recipe."""

    def __init__(self, depth: int, kind: str) -> None:
        self.depth, self.kind = depth, kind

    def build(self) -> Json:
        return nested(self.depth, self.kind)

    def __repr__(self) -> str:
        return f"Deep({self.depth}, {self.kind!r})"


def materialise(value: Json) -> Json:
    """Values stored in mutations are shared between runs: hand out fresh containers."""
    if isinstance(value, Deep):
        return value.build()
    if isinstance(value, Huge):
        return str(value)
    if isinstance(value, dict):
        return {k: materialise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialise(v) for v in value]
    return value


# --- mutations -------------------------------------------------------------------------------


def _child_key(container: Json, step: str | int) -> str | int | None:
    """The key ``step`` names in ``container``; ``None`` when it names nothing there."""
    if isinstance(step, str):
        return step if isinstance(container, dict) else None
    if isinstance(container, list):
        return step % len(container) if container else None
    if isinstance(container, dict):
        keys = list(container)
        return keys[step % len(keys)] if keys else None
    return None


def _parent(root: Json, path: Path) -> tuple[Json, str | int | None]:
    """The container holding ``path``'s last step and the key of that step there."""
    node = root
    for step in path[:-1]:
        key = _child_key(node, step)
        if key is None or (isinstance(node, dict) and key not in node):
            return None, None
        node = node[key]
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        return node, last  # a new key may be added
    return node, _child_key(node, last)


class Mutation(Printable):
    """One change to a request; it does nothing where its path does not exist."""

    def apply(self, root: Json) -> Json:
        raise NotImplementedError


class Set(Mutation):
    """Set (or add) the value at ``path``; the empty path replaces the whole body."""

    def __init__(self, path: Path, value: Json) -> None:
        self.path, self.value = path, value

    def apply(self, root: Json) -> Json:
        if not self.path:
            return materialise(self.value)
        parent, key = _parent(root, self.path)
        if key is not None:
            parent[key] = materialise(self.value)
        return root

    def __repr__(self) -> str:
        return f"Set({self.path!r}, {_value_repr(self.value)})"


class Delete(Mutation):
    """Remove the key or list item at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def apply(self, root: Json) -> Json:
        parent, key = _parent(root, self.path)
        if key is not None and (isinstance(parent, list) or key in parent):
            del parent[key]
        return root

    def __repr__(self) -> str:
        return f"Delete({self.path!r})"


class Append(Mutation):
    """Append an item to the list at ``path``."""

    def __init__(self, path: Path, value: Json) -> None:
        self.path, self.value = path, value

    def apply(self, root: Json) -> Json:
        parent, key = _parent(root, self.path)
        if key is not None and isinstance(parent[key] if _has(parent, key) else None, list):
            parent[key].append(materialise(self.value))
        return root

    def __repr__(self) -> str:
        return f"Append({self.path!r}, {_value_repr(self.value)})"


class Duplicate(Mutation):
    """Append a copy of one item of the list at ``path`` (same ids, same everything)."""

    def __init__(self, path: Path, index: int) -> None:
        self.path, self.index = path, index

    def apply(self, root: Json) -> Json:
        parent, key = _parent(root, self.path)
        items = parent[key] if key is not None and _has(parent, key) else None
        if isinstance(items, list) and items:
            items.append(json.loads(json.dumps(items[self.index % len(items)])))
        return root

    def __repr__(self) -> str:
        return f"Duplicate({self.path!r}, {self.index})"


class Anywhere(Mutation):
    """Follow ``selectors`` from ``start`` (each picks a child modulo its count), then replace or
    delete what is reached: a blind mutation that can land in any field of the request."""

    def __init__(self, start: Path, selectors: tuple[int, ...], value: Json, delete: bool) -> None:
        self.start, self.selectors, self.value, self.delete = start, selectors, value, delete

    def apply(self, root: Json) -> Json:
        path: list[str | int] = list(self.start)
        node = root
        for step in self.start:
            key = _child_key(node, step)
            if key is None or (isinstance(node, dict) and key not in node):
                return root
            node = node[key]
        for selector in self.selectors:
            key = _child_key(node, selector)
            if key is None:
                break
            path.append(key)
            node = node[key]
        if not path:
            return root
        return (Delete(tuple(path)) if self.delete else Set(tuple(path), self.value)).apply(root)

    def __repr__(self) -> str:
        value = _value_repr(self.value)
        return f"Anywhere({self.start!r}, {self.selectors!r}, {value}, {self.delete})"


def _has(container: Json, key: str | int) -> bool:
    return (isinstance(container, dict) and key in container) or isinstance(container, list)


def _value_repr(value: Json) -> str:
    if isinstance(value, Huge | Deep):
        return repr(value)
    return short(value)


# --- base requests ---------------------------------------------------------------------------


def draft_orders(patient_id: str) -> dict[str, Json]:
    """TACE, sorafenib (inline and via a contained Medication) and an unrelated order."""
    subject = {"reference": f"Patient/{patient_id}"}
    rxnorm, snomed_tace = codes.SORAFENIB_TABLET, codes.TACE_CODINGS[0]
    orders = [
        {
            "resourceType": "ServiceRequest",
            "id": "sr-tace",
            "status": "draft",
            "intent": "order",
            "code": {"coding": [{"system": snomed_tace[0], "code": snomed_tace[1]}]},
            "subject": subject,
        },
        {
            "resourceType": "MedicationRequest",
            "id": "mr-sorafenib",
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": rxnorm[0], "code": rxnorm[1]}]},
            "subject": subject,
        },
        {
            "resourceType": "MedicationRequest",
            "id": "mr-contained",
            "status": "draft",
            "intent": "order",
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "med",
                    "code": {"coding": [{"system": codes.ATC, "code": "L01EX02"}]},
                }
            ],
            "medicationReference": {"reference": "#med"},
            "subject": subject,
        },
        {
            "resourceType": "ServiceRequest",
            "id": "sr-other",
            "status": "draft",
            "intent": "order",
            "code": {"coding": [{"system": codes.LOINC, "code": "24627-2"}]},
            "subject": subject,
        },
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": o} for o in orders],
    }


@cache
def base_text(fixture: str, hook: str) -> str:
    """A fixture's request for ``hook`` as JSON text (parsed afresh for every example)."""
    request = hook_request(fixture, hook=hook)
    request["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fuzz/{fixture}/{hook}"))
    if hook in ORDER_HOOKS:
        orders = draft_orders(request["context"]["patientId"])
        request["context"]["draftOrders"] = orders
        if hook == "order-select":
            request["context"]["selections"] = [
                f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in orders["entry"]
            ]
    return json.dumps(request)


@cache
def fixture_resources(fixture: str) -> str:
    """The fixture's prefetch (patient and four searchsets) as JSON text."""
    return json.dumps(prefetch_of(fixture))


class Recipe(Printable):
    """A fixture request for a hook, with mutations applied in order."""

    def __init__(self, fixture: str, hook: str, mutations: Sequence[Mutation]) -> None:
        self.fixture, self.hook, self.mutations = fixture, hook, tuple(mutations)

    @property
    def service(self) -> str:
        return SERVICE_OF_HOOK[self.hook]

    def build(self) -> Json:
        request = json.loads(base_text(self.fixture, self.hook))
        for mutation in self.mutations:
            request = mutation.apply(request)
        return request

    def __repr__(self) -> str:
        changes = ", ".join(repr(m) for m in self.mutations)
        return f"Recipe({self.fixture!r}, {self.hook!r}, [{changes}])"


# --- values ----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
any_json = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
# A lone surrogate (written as the escape \ud800) is not valid Unicode: a strict parser refuses
# the whole body, a lenient one hands the service a string that cannot be encoded.
odd_strings = st.sampled_from(
    [
        "",
        " ",
        "\u0000",
        "\ud800",
        "\ufeff",
        "\u202eevil",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "<script>alert(1)</script>",
        "'; DROP TABLE feedback; --",
        "../../etc/passwd",
        "%00",
        "{{context.patientId}}",
        "\\",
        '"',
        "null",
        "Patient/",
    ]
)
# Long strings made of characters that no parser chews on for long (see the unit-string test).
huge_strings = st.builds(
    Huge,
    st.sampled_from(["a", "é", "𝔘", "\u0000", "<b>", "\\", '"', " "]),
    st.integers(min_value=HUGE, max_value=HUGE + HUGE // 2),
)
deep_values = st.builds(
    Deep, st.sampled_from([50, 200, 300]), st.sampled_from(["list", "dict", "mixed"])
)
texts = st.one_of(st.text(max_size=20), odd_strings)
garbage = st.one_of(any_json, odd_strings, huge_strings, deep_values)
# The wrong JSON type for a field that wants an object, a list, a string or a number.
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), min_size=1, max_size=3),
)

absurd_numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from([0, -0.0, -1, 1e-300, 5e-324, 1e300, 1.7976931348623157e308, 2**63, 2**64 - 1]),
    # Beyond 64 bits, beyond a double, not a number: JSON allows the first, not the others.
    st.sampled_from([2**64 + 1, 10**20, 10**100, 10**400, -(10**400), float("nan"), float("inf")]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["12", "-1", "1e999", "NaN", "Infinity", "-Infinity", "1,5", "0x1F", ".5"]),
    st.sampled_from(["12 mg/dL", "", " ", "١٢", "+5", "1_000", "5."]),
    wrong_types,
)
plausible_numbers = st.one_of(
    st.integers(min_value=0, max_value=500),
    st.floats(min_value=0, max_value=500, allow_nan=False).map(lambda f: round(f, 2)),
)

bad_dates = st.sampled_from(
    [
        "2026-13-45",
        "2026-02-30",
        "2026-00-10",
        "0000-01-01",
        "0001-01-01",
        "9999-12-31",
        "3026-11-15",
        "2126-01-01T00:00:00Z",
        "2026",
        "2026-11",
        "2026-1-1",
        "26-11-15",
        "2026-11-15T25:61:61Z",
        "2026-11-15T10:00:00+25:00",
        "2026-11-15T10:00:00",
        "2026-W46",
        "20261115",
        "yesterday",
        "",
        "-2026-11-15",
        "2026-11-15garbage",
        "2026-11-15T10:00:00.123456789123Z",
        "２０２６",
        "２０２６-11-15",
        "0000",
        "-001",
        "1e10",
    ]
)
good_dates = st.dates(min_value=date(2026, 8, 1), max_value=date(2026, 11, 20)).map(date.isoformat)
any_dates = st.one_of(
    bad_dates,
    good_dates,
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    wrong_types,
)

odd_units = st.sampled_from(
    [
        "mg/dL",
        "umol/L",
        "µmol/L",
        "μmol/L",
        "g/L",
        "g/dL",
        "10*9/L",
        "10*3/uL",
        "/mm3",
        "{INR}",
        "1",
        "%",
        "U/L",
        "ng/mL",
        "cm",
        "mm",
        "",
        " ",
        "furlong",
        "mg/dL/dL",
        "mg//dL",
        "10*999/L",
        "10*-999/L",
        "10^9/L",
        "mg\u0000/dL",
        "mg dL",
        "MG/DL",
        "mol",
        "kg",
        "Cel",
        "[degF]",
        "{",
        "}",
        "{}",
        "{{}}",
        "((mg))",
        "mg)",
        "(mg",
        "/",
        "//",
        ".",
        "1/0",
        "0/L",
        "mg/0",
        "\ud800",
        "𝔘",
        "[iU]/L",
        "m[IU]/mL",
        "10.L-1",
        "x10^9/L",
        "IU/L",
        "mmol/L",
        "mol/L",
        "s",
        "10*12/L",
        "10*3/mm3",
        "mg/dL{",
    ]
)
units = st.one_of(odd_units, st.text(max_size=10), wrong_types)
unit_systems = st.one_of(
    st.sampled_from(["http://unitsofmeasure.org", "urn:other", "", "http://unitsofmeasure.org/"]),
    wrong_types,
)
statuses = st.one_of(
    st.sampled_from(["final", "amended", "corrected", "preliminary", "entered-in-error", "FINAL"]),
    st.sampled_from(["completed", "in-progress", "not-done", "", "unknown"]),
    wrong_types,
)
fhir_ids = st.one_of(
    st.sampled_from(["p01", "p01-bili", "x" * 64, "x" * 65, "../p01", "a b", "", "-", "p01/../x"]),
    st.text(max_size=10),
    huge_strings,
    wrong_types,
)
resource_types = st.one_of(
    st.sampled_from(
        [
            "Patient",
            "Observation",
            "Condition",
            "Procedure",
            "Bundle",
            "OperationOutcome",
            "MedicationRequest",
            "ServiceRequest",
            "observation",
            "NotAResource",
            "",
        ]
    ),
    wrong_types,
)
references = st.one_of(
    st.sampled_from(
        [
            "Patient/someone-else",
            "Patient/",
            "Patient",
            "",
            "Patient/p01/_history/2",
            "https://elsewhere.example/fhir/Patient/someone-else",
            "https://elsewhere.example/fhir/Patient/p01",
            "urn:uuid:6f1c5d1e-0000-4000-8000-000000000000",
            "#contained",
            "Group/ward-7",
            "Patient/p01/",
            "/",
        ]
    ),
    huge_strings,
    wrong_types,
)
subjects = st.one_of(
    references.map(lambda r: {"reference": r}),
    st.just({"identifier": {"value": "123"}}),
    st.just({"display": "someone"}),
    wrong_types,
)
coding_systems = st.one_of(
    st.sampled_from(
        [
            codes.LOINC,
            codes.SNOMED,
            codes.ICD10,
            codes.ICD10CM,
            codes.HCC_CDS,
            codes.AJCC,
            "http://loinc.org/",
            "LOINC",
            "",
        ]
    ),
    # Unhashable systems: a list or an object where a URI belongs.
    st.sampled_from([[codes.LOINC], {"uri": codes.SNOMED}, [], {}]),
    st.integers(),
    st.none(),
    st.booleans(),
)
coding_codes = st.one_of(
    st.sampled_from(
        [
            "14631-6",
            "1751-7",
            "6301-6",
            "25370001",
            "C22.0",
            "C22",
            "C",
            "C78",
            "C78.0.0.0",
            "C50.9",
            "389026000",
            "hepatectomy",
            "vp4",
            "cN1",
            "pT2",
            "MX",
            "",
            " 14631-6",
        ]
    ),
    texts,
    huge_strings,
    wrong_types,
)
codings_ = st.one_of(
    st.fixed_dictionaries(
        {"system": coding_systems, "code": coding_codes},
        optional={"display": st.one_of(texts, wrong_types), "version": wrong_types},
    ),
    wrong_types,
)
codeable_concepts = st.one_of(
    st.fixed_dictionaries(
        {"coding": st.one_of(st.lists(codings_, max_size=4), wrong_types)},
        optional={"text": st.one_of(texts, wrong_types)},
    ),
    wrong_types,
)
quantities = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "value": absurd_numbers,
            "unit": units,
            "code": units,
            "system": unit_systems,
            "comparator": st.one_of(
                st.sampled_from(["<", ">", "<=", ">=", "ad", "~", ""]), wrong_types
            ),
        },
    ),
    wrong_types,
)
periods = st.one_of(
    st.fixed_dictionaries({}, optional={"start": any_dates, "end": any_dates}), wrong_types
)

# --- fields of resources ---------------------------------------------------------------------

FieldSpec = tuple[Path, st.SearchStrategy[Json]]

COMMON_FIELDS: tuple[FieldSpec, ...] = (
    (("id",), fhir_ids),
    (("resourceType",), resource_types),
    (("subject",), subjects),
    (("subject", "reference"), references),
    (("patient",), subjects),
    (("meta",), st.one_of(any_json, st.just({"lastUpdated": "2026-13-45"}))),
    (("extension",), st.one_of(deep_values, any_json)),
    (("text",), st.one_of(huge_strings, any_json)),
    (("contained",), st.one_of(st.lists(any_json, max_size=2), wrong_types, deep_values)),
    (("fuzz",), garbage),
    (("resourceType",), st.just("Observation")),
)
OBSERVATION_FIELDS: tuple[FieldSpec, ...] = (
    (("valueQuantity",), quantities),
    (("valueQuantity", "value"), absurd_numbers),
    (("valueQuantity", "unit"), units),
    (("valueQuantity", "code"), units),
    (("valueQuantity", "system"), unit_systems),
    (("valueQuantity", "comparator"), st.sampled_from(["<", ">=", "ad", "~"])),
    (("effectiveDateTime",), any_dates),
    (("issued",), any_dates),
    (("effectivePeriod",), periods),
    (("effectiveInstant",), any_dates),
    (("status",), statuses),
    (("code",), codeable_concepts),
    (("code", "coding"), st.one_of(st.lists(codings_, max_size=3), wrong_types)),
    (("code", "coding", 0, "system"), coding_systems),
    (("code", "coding", 0, "code"), coding_codes),
    (("referenceRange",), st.one_of(st.lists(any_json, max_size=2), wrong_types)),
    (("referenceRange", 0, "high"), quantities),
    (("referenceRange", 0, "high", "value"), absurd_numbers),
    (("component",), st.one_of(st.lists(any_json, max_size=2), wrong_types)),
    (
        ("component",),
        st.lists(
            st.fixed_dictionaries(
                {
                    "code": codeable_concepts
                    | st.just({"coding": [{"system": codes.LOINC, "code": "33728-7"}]}),
                    "valueQuantity": quantities,
                }
            ),
            max_size=2,
        ),
    ),
    (("valueInteger",), absurd_numbers),
    (("valueBoolean",), st.one_of(st.booleans(), wrong_types)),
    (("valueCodeableConcept",), codeable_concepts),
    (("valueCodeableConcept", "coding", 0, "code"), coding_codes),
    (("valueString",), st.one_of(texts, huge_strings)),
)
CONDITION_FIELDS: tuple[FieldSpec, ...] = (
    (("code",), codeable_concepts),
    (("code", "coding"), st.one_of(st.lists(codings_, max_size=3), wrong_types)),
    (("code", "coding", 0, "system"), coding_systems),
    (("code", "coding", 0, "code"), coding_codes),
    (("clinicalStatus",), codeable_concepts),
    (("clinicalStatus", "coding", 0, "code"), coding_codes | st.just("recurrence")),
    (("verificationStatus",), codeable_concepts),
    (("severity",), codeable_concepts),
    (("onsetDateTime",), any_dates),
    (("recordedDate",), any_dates),
    (("onsetPeriod",), periods),
    (("stage",), st.one_of(st.lists(any_json, max_size=2), wrong_types)),
)
PROCEDURE_FIELDS: tuple[FieldSpec, ...] = (
    (("status",), statuses),
    (("code",), codeable_concepts),
    (("code", "coding", 0, "code"), coding_codes),
    (("performedDateTime",), any_dates),
    (("performedPeriod",), periods),
)
PATIENT_FIELDS: tuple[FieldSpec, ...] = (
    (("id",), fhir_ids),
    (("resourceType",), resource_types),
    (("birthDate",), any_dates),
    (("gender",), st.one_of(st.sampled_from(["male", "female", "other", "Male"]), wrong_types)),
    (("deceasedBoolean",), st.one_of(st.booleans(), wrong_types)),
    (("deceasedDateTime",), any_dates),
    (("name",), st.one_of(st.just([{"family": Huge("x", HUGE)}]), any_json)),
    (("extension",), st.one_of(deep_values, any_json)),
    (
        ("link",),
        st.one_of(
            st.just([{"other": {"reference": "Patient/other"}, "type": "seealso"}]), any_json
        ),
    ),
    (("fuzz",), garbage),
)


def field_mutations(prefix: Path, fields: Sequence[FieldSpec]) -> st.SearchStrategy[Mutation]:
    """Set one of ``fields`` of the resource at ``prefix`` (an ``int`` step picks an entry)."""

    def one(spec: FieldSpec) -> st.SearchStrategy[Mutation]:
        path, values = spec
        return values.map(lambda value: Set(prefix + path, value))

    def delete(spec: FieldSpec) -> Mutation:
        return Delete(prefix + spec[0])

    return st.one_of(
        st.sampled_from(list(fields)).flatmap(one),
        st.sampled_from(list(fields)).map(delete),
    )


def entry_path(key: str, index: int) -> Path:
    return ("prefetch", key, "entry", index, "resource")


entry_indices = st.integers(min_value=0, max_value=40)


def resource_mutations() -> st.SearchStrategy[Mutation]:
    """A change to one field of one prefetched resource, chosen to fit its type."""

    def in_bundle(keys: Sequence[str], fields: Sequence[FieldSpec]) -> st.SearchStrategy[Mutation]:
        return st.tuples(st.sampled_from(keys), entry_indices).flatmap(
            lambda t: field_mutations(entry_path(*t), fields)
        )

    return st.one_of(
        in_bundle(["labs", "findings"], OBSERVATION_FIELDS),
        in_bundle(["conditions"], CONDITION_FIELDS),
        in_bundle(["procedures"], PROCEDURE_FIELDS),
        field_mutations(("prefetch", "patient"), PATIENT_FIELDS),
        in_bundle(BUNDLE_KEYS, COMMON_FIELDS + OBSERVATION_FIELDS + CONDITION_FIELDS),
    )


# --- whole resources, Bundles and prefetch values ---------------------------------------------

operation_outcome = st.just(
    {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "no access"}],
    }
)
garbage_entries = st.one_of(
    any_json,
    st.just({}),
    st.just({"fullUrl": "urn:uuid:0b8f0c5c-0000-4000-8000-000000000001"}),
    st.just({"resource": None}),
    st.fixed_dictionaries({"resource": st.one_of(wrong_types, odd_strings)}),
    st.fixed_dictionaries({"resource": operation_outcome}),
    st.fixed_dictionaries(
        {
            "fullUrl": st.sampled_from(
                [
                    "urn:uuid:0b8f0c5c-0000-4000-8000-000000000002",
                    "https://ehr.example/fhir/Observation/dup",
                    "urn:uuid:",
                    "",
                ]
            ),
            "resource": st.fixed_dictionaries(
                {
                    "resourceType": resource_types,
                    "subject": subjects,
                    "status": statuses,
                    "code": codeable_concepts,
                },
                optional={"id": fhir_ids, "valueQuantity": quantities},
            ),
        }
    ),
)
links = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "relation": st.sampled_from(["next", "self", "previous"]) | wrong_types,
                "url": st.sampled_from(
                    [
                        f"{FHIR_BASE}/Observation?page=2",
                        "Observation?page=2",
                        "https://elsewhere.example/fhir/Observation?page=2",
                        "http://ehr.fuzz.invalid/fhir/Observation?page=2",
                        "ftp://ehr.fuzz.invalid/x",
                        "http://[::1",
                        "javascript:alert(1)",
                        "",
                    ]
                )
                | wrong_types,
            }
        ),
        max_size=3,
    ),
    wrong_types,
)
bundles = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle")},
    optional={
        "type": st.one_of(st.sampled_from(["searchset", "collection", "history"]), wrong_types),
        "total": absurd_numbers,
        "entry": st.one_of(st.lists(garbage_entries, max_size=4), wrong_types, deep_values),
        "link": links,
    },
)
prefetch_values = st.one_of(
    st.none(),
    operation_outcome,
    bundles,
    st.lists(any_json, max_size=3),
    texts,
    absurd_numbers,
    st.just({}),
    st.just({"resourceType": None}),
    st.just({"resourceType": "Patient", "id": "someone-else"}),
    st.builds(
        lambda d: {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Bundle", "entry": [{"resource": d}]}}],
        },
        any_json,
    ),
    garbage,
)


def bundle_mutations() -> st.SearchStrategy[Mutation]:
    """Entries without resources, duplicated entries, garbage entries, links, nested Bundles."""
    key = st.sampled_from(BUNDLE_KEYS)
    return st.one_of(
        st.tuples(key, entry_indices).map(
            lambda t: Delete(("prefetch", t[0], "entry", t[1], "resource"))
        ),
        st.tuples(key, entry_indices).map(lambda t: Delete(("prefetch", t[0], "entry", t[1]))),
        st.tuples(key, entry_indices).map(lambda t: Duplicate(("prefetch", t[0], "entry"), t[1])),
        st.tuples(key, garbage_entries).map(lambda t: Append(("prefetch", t[0], "entry"), t[1])),
        st.tuples(key, entry_indices, garbage_entries).map(
            lambda t: Set(("prefetch", t[0], "entry", t[1]), t[2])
        ),
        st.tuples(key, entry_indices, garbage).map(
            lambda t: Set(("prefetch", t[0], "entry", t[1], "resource"), t[2])
        ),
        st.tuples(
            key,
            entry_indices,
            st.sampled_from(["urn:uuid:x", "", "https://e/Patient/p01"]) | wrong_types,
        ).map(lambda t: Set(("prefetch", t[0], "entry", t[1], "fullUrl"), t[2])),
        st.tuples(key, st.one_of(wrong_types, deep_values, huge_strings)).map(
            lambda t: Set(("prefetch", t[0], "entry"), t[1])
        ),
        st.tuples(key, links).map(lambda t: Set(("prefetch", t[0], "link"), t[1])),
        st.tuples(key, resource_types | wrong_types).map(
            lambda t: Set(("prefetch", t[0], "resourceType"), t[1])
        ),
        st.tuples(key, wrong_types).map(lambda t: Set(("prefetch", t[0], "type"), t[1])),
        # A Bundle inside a Bundle, with a resource of another patient.
        st.tuples(key, st.sampled_from(["Patient/someone-else", "Patient/p01"])).map(
            lambda t: Append(
                ("prefetch", t[0], "entry"),
                {
                    "resource": {
                        "resourceType": "Bundle",
                        "type": "collection",
                        "entry": [
                            {
                                "resource": {
                                    "resourceType": "Condition",
                                    "id": "nested",
                                    "code": {"coding": [{"system": codes.ICD10, "code": "C22.0"}]},
                                    "subject": {"reference": t[1]},
                                }
                            }
                        ],
                    }
                },
            )
        ),
    )


def prefetch_mutations() -> st.SearchStrategy[Mutation]:
    """A prefetch key replaced by a list, string, number, OperationOutcome, odd Bundle …"""
    key = st.sampled_from(PREFETCH_KEYS) | st.text(max_size=8)
    return st.one_of(
        st.tuples(key, prefetch_values).map(lambda t: Set(("prefetch", t[0]), t[1])),
        key.map(lambda k: Delete(("prefetch", k))),
        # Another patient's record under the patient key, or two Patients in one Bundle.
        st.sampled_from(FIXTURE_NAMES).map(
            lambda name: Set(
                ("prefetch", "patient"), json.loads(fixture_resources(name))["patient"]
            )
        ),
        st.sampled_from(FIXTURE_NAMES).map(
            lambda name: Set(("prefetch", "labs"), json.loads(fixture_resources(name))["labs"])
        ),
        st.just(
            Set(
                ("prefetch", "patient"),
                {
                    "resourceType": "Bundle",
                    "entry": [
                        {"resource": {"resourceType": "Patient", "id": "twin"}},
                        {
                            "resource": {
                                "resourceType": "Patient",
                                "id": "twin",
                                "birthDate": "1900",
                            }
                        },
                    ],
                },
            )
        ),
        st.one_of(wrong_types, garbage).map(lambda v: Set(("prefetch",), v)),
    )


server_urls = st.one_of(
    st.sampled_from(
        [
            FHIR_BASE,
            "http://127.0.0.1:9/fhir",
            "http://localhost/fhir",
            "http://[::1]:9/fhir",
            "http://ehr.example.org/fhir",
            "https://",
            "https:///fhir",
            "ftp://ehr.example.org",
            "not a url",
            "https://ehr.example.org:99999/fhir",
            "https://[::1/fhir",
            "https://ehr.example.org/fhir\u0000",
            "",
        ]
    ),
    wrong_types,
)
authorizations = st.one_of(
    st.fixed_dictionaries(
        {"access_token": st.one_of(st.just("tok"), texts, wrong_types)},
        optional={
            "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "MAC", ""]), wrong_types),
            "expires_in": absurd_numbers,
            "scope": texts,
            "subject": texts,
        },
    ),
    wrong_types,
)


def top_level_mutations() -> st.SearchStrategy[Mutation]:
    """Missing or mistyped hook, hookInstance, context fields, fhirServer, fhirAuthorization."""
    fields = st.sampled_from(
        [
            ("hook",),
            ("hookInstance",),
            ("context",),
            ("context", "patientId"),
            ("context", "userId"),
            ("context", "encounterId"),
            ("prefetch",),
            ("fhirServer",),
            ("fhirAuthorization",),
        ]
    )
    return st.one_of(
        fields.map(Delete),
        st.tuples(fields, st.one_of(wrong_types, odd_strings, huge_strings)).map(lambda t: Set(*t)),
        st.tuples(
            st.sampled_from([("hook",)]),
            st.sampled_from([*HOOKS, "PATIENT-VIEW", "medication-prescribe"]),
        ).map(lambda t: Set(*t)),
        st.tuples(
            st.just(("context", "patientId")),
            st.sampled_from(["someone-else", "Patient/p01", "Patient/", "p01 ", "p01/../p02"]),
        ).map(lambda t: Set(*t)),
        server_urls.map(lambda url: Set(("fhirServer",), url)),
        authorizations.map(lambda auth: Set(("fhirAuthorization",), auth)),
        st.tuples(st.text(max_size=8), garbage).map(lambda t: Set((t[0],), t[1])),
        st.one_of(wrong_types, odd_strings).map(lambda v: Set((), v)),
    )


anywhere = st.builds(
    Anywhere,
    st.sampled_from([("prefetch",), ("prefetch",), ("prefetch",), ("context",), ()]),
    st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=9).map(tuple),
    st.one_of(wrong_types, garbage, absurd_numbers, bad_dates),
    st.booleans(),
)


def _weighted(*pairs: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    pool = [strategy for weight, strategy in pairs for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# Mostly changes inside resources, so that most requests pass the request checks and are assessed.
request_mutations = _weighted(
    (8, resource_mutations()),
    (3, bundle_mutations()),
    (1, prefetch_mutations()),
    (1, top_level_mutations()),
    (3, anywhere),
)


def patient_view_recipes(max_mutations: int = 4) -> st.SearchStrategy[Recipe]:
    """A fixture patient-view request with 1–``max_mutations`` changes."""
    return st.builds(
        Recipe,
        st.sampled_from(FIXTURE_NAMES),
        st.just(PATIENT_VIEW),
        st.lists(request_mutations, min_size=1, max_size=max_mutations),
    )


# --- order-select / order-sign ----------------------------------------------------------------

ORDER_FIELDS: tuple[FieldSpec, ...] = (
    (("resourceType",), resource_types),
    (("id",), fhir_ids),
    (("code",), codeable_concepts),
    (("code", "coding", 0, "code"), coding_codes | st.sampled_from(["441525007", "tace"])),
    (("code", "coding", 0, "system"), coding_systems),
    (("medicationCodeableConcept",), codeable_concepts),
    (("medicationCodeableConcept", "coding", 0, "system"), coding_systems),
    (
        ("medicationReference",),
        st.one_of(wrong_types, st.just({"reference": "#med"}), st.just("#med")),
    ),
    (("medicationReference", "reference"), st.one_of(wrong_types, st.just("#med"), texts)),
    (("contained",), st.one_of(wrong_types, st.lists(any_json, max_size=2), deep_values)),
    (("contained", 0), any_json),
    (("contained", 0, "id"), wrong_types),
    (("contained", 0, "code"), codeable_concepts),
    (("status",), statuses),
    (("subject",), subjects),
    (("fuzz",), garbage),
)
order_field_mutations = entry_indices.flatmap(
    lambda i: field_mutations(("context", "draftOrders", "entry", i, "resource"), ORDER_FIELDS)
)
order_mutations = _weighted(
    (4, order_field_mutations),
    (
        1,
        st.one_of(
            entry_indices.map(lambda i: Delete(("context", "draftOrders", "entry", i, "resource"))),
            entry_indices.map(lambda i: Duplicate(("context", "draftOrders", "entry"), i)),
            garbage_entries.map(lambda e: Append(("context", "draftOrders", "entry"), e)),
            st.one_of(wrong_types, deep_values).map(
                lambda v: Set(("context", "draftOrders", "entry"), v)
            ),
            st.one_of(wrong_types, bundles, garbage).map(
                lambda v: Set(("context", "draftOrders"), v)
            ),
            st.just(Delete(("context", "draftOrders"))),
            links.map(lambda v: Set(("context", "draftOrders", "link"), v)),
        ),
    ),
    (
        1,
        st.one_of(
            st.one_of(wrong_types, st.lists(st.one_of(texts, wrong_types), max_size=4)).map(
                lambda v: Set(("context", "selections"), v)
            ),
            st.sampled_from(
                [
                    "ServiceRequest/sr-tace",
                    "MedicationRequest/mr-sorafenib",
                    "MedicationRequest/",
                    "sr-tace",
                ]
            ).map(lambda s: Set(("context", "selections"), [s, s])),
            huge_strings.map(lambda s: Set(("context", "selections"), [s])),
            st.just(Delete(("context", "selections"))),
        ),
    ),
    (3, request_mutations),
)


def order_recipes(max_mutations: int = 5) -> st.SearchStrategy[Recipe]:
    """A fixture order-select / order-sign request with TACE and sorafenib drafts, changed."""
    return st.builds(
        Recipe,
        st.sampled_from(FIXTURE_NAMES),
        st.sampled_from(ORDER_HOOKS),
        st.lists(order_mutations, min_size=0, max_size=max_mutations),
    )


# --- requests from scratch --------------------------------------------------------------------

LAB_CODINGS = sorted(frozenset().union(*codes.LAB_CODES.values()))
FINDING_CODINGS = sorted(
    codes.ECOG | codes.TUMOUR_SIZE | codes.AJCC_T | codes.AJCC_N | codes.AJCC_M
) + list(codes.PROJECT_OBSERVATIONS)
CONDITION_CODINGS = sorted(
    codes.HCC
    | codes.ASCITES
    | codes.ENCEPHALOPATHY
    | codes.CHOLESTATIC
    | codes.DISTANT_METASTASIS_CONDITIONS
    | codes.NODAL_METASTASIS_CONDITIONS
    | frozenset().union(*codes.EXCLUSION_CONDITIONS.values())
) + [(codes.ICD10, "C50.9"), (codes.ICD10CM, "C78.01"), (codes.SNOMED, "0")]
VALUE_CONCEPT_CODINGS = (
    [
        (codes.HCC_CDS, c)
        for c in [*codes.VP_GRADES, *codes.VV_GRADES, *codes.MARGINS, *codes.PATTERNS]
    ]
    + [
        (codes.AJCC, c)
        for c in ["cN0", "cN1", "NX", "cM0", "pM1", "pT1a", "T2", "cT3", "T4", "ycT2", "M"]
    ]
    + [(codes.LOINC, c) for c in codes.ECOG_ANSWERS]
    + [(codes.LOINC, "LA4489-6")]
)
scratch_patient_ids = st.sampled_from(["p1", "p2", "Patient/p1", "a" * 64])


def _coding(pair: tuple[str, str]) -> dict[str, str]:
    return {"system": pair[0], "code": pair[1]}


def _concept(pairs: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[Json]:
    return st.one_of(
        st.lists(pairs.map(_coding), min_size=1, max_size=2).map(lambda c: {"coding": c}),
        codeable_concepts,
    )


def _subject(pid: str) -> st.SearchStrategy[Json]:
    own = {"reference": f"Patient/{pid.removeprefix('Patient/')}"}
    return st.one_of(st.just(own), st.just(own), subjects)


def scratch_observation(pid: str, pairs: Sequence[tuple[str, str]]) -> st.SearchStrategy[Json]:
    plausible_quantity = st.fixed_dictionaries(
        {"value": plausible_numbers},
        optional={"unit": odd_units, "code": odd_units, "system": st.just(codes.UCUM)},
    )
    value = st.one_of(
        st.fixed_dictionaries({"valueQuantity": st.one_of(plausible_quantity, quantities)}),
        st.fixed_dictionaries({"valueInteger": st.integers(-2, 9) | absurd_numbers}),
        st.fixed_dictionaries({"valueBoolean": st.booleans() | wrong_types}),
        st.fixed_dictionaries(
            {"valueCodeableConcept": _concept(st.sampled_from(VALUE_CONCEPT_CODINGS))}
        ),
        st.fixed_dictionaries(
            {
                "component": st.lists(
                    st.fixed_dictionaries(
                        {
                            "code": _concept(st.sampled_from(FINDING_CODINGS)),
                            "valueQuantity": plausible_quantity,
                        }
                    ),
                    max_size=2,
                )
            }
        ),
        st.just({}),
    )
    return st.tuples(
        st.fixed_dictionaries(
            {
                "resourceType": st.just("Observation"),
                "id": st.one_of(st.sampled_from(["o1", "o2", "o3"]), fhir_ids),
                "status": st.one_of(st.sampled_from(["final", "amended", "corrected"]), statuses),
                "code": _concept(st.sampled_from(pairs)),
                "subject": _subject(pid),
            },
            optional={
                "effectiveDateTime": st.one_of(good_dates, any_dates),
                "issued": any_dates,
                "referenceRange": st.lists(st.fixed_dictionaries({"high": quantities}), max_size=1),
            },
        ),
        value,
    ).map(lambda t: {**t[0], **t[1]})


def scratch_condition(pid: str) -> st.SearchStrategy[Json]:
    return st.fixed_dictionaries(
        {
            "resourceType": st.just("Condition"),
            "id": st.one_of(st.sampled_from(["c1", "c2"]), fhir_ids),
            "code": _concept(st.sampled_from(CONDITION_CODINGS)),
            "subject": _subject(pid),
        },
        optional={
            "clinicalStatus": _concept(
                st.sampled_from(["active", "recurrence", "relapse", "resolved", "remission"]).map(
                    lambda c: ("http://terminology.hl7.org/CodeSystem/condition-clinical", c)
                )
            ),
            "verificationStatus": _concept(
                st.sampled_from(["confirmed", "refuted", "entered-in-error"]).map(
                    lambda c: ("http://terminology.hl7.org/CodeSystem/condition-ver-status", c)
                )
            ),
            "severity": _concept(
                st.sampled_from(sorted(codes.SEVERITY_MILD | codes.SEVERITY_MODERATE_OR_SEVERE))
            ),
            "onsetDateTime": any_dates,
            "recordedDate": any_dates,
        },
    )


def scratch_procedure(pid: str) -> st.SearchStrategy[Json]:
    return st.fixed_dictionaries(
        {
            "resourceType": st.just("Procedure"),
            "id": st.one_of(st.just("proc1"), fhir_ids),
            "status": st.one_of(st.just("completed"), statuses),
            "code": _concept(st.sampled_from(sorted(codes.HEPATECTOMY | codes.TACE))),
            "subject": _subject(pid),
        },
        optional={"performedDateTime": any_dates, "performedPeriod": periods},
    )


def scratch_patient(pid: str) -> st.SearchStrategy[Json]:
    return st.fixed_dictionaries(
        {
            "resourceType": st.just("Patient"),
            "id": _weighted((6, st.just(pid.removeprefix("Patient/"))), (1, fhir_ids)),
        },
        optional={
            "birthDate": any_dates,
            "gender": st.sampled_from(["male", "female"]),
            "fuzz": garbage,
        },
    )


def _searchset(resources: list[Json]) -> Json:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


@st.composite
def scratch_requests(draw: st.DrawFn) -> tuple[str, Json]:
    """``(service id, request)`` built from nothing: plausible and absurd values mixed."""
    hook = draw(st.sampled_from(HOOKS))
    pid = draw(scratch_patient_ids)
    resources = draw(
        st.lists(
            st.one_of(
                scratch_observation(pid, LAB_CODINGS),
                scratch_observation(pid, FINDING_CODINGS),
                scratch_condition(pid),
                scratch_procedure(pid),
                scratch_patient(pid),
                st.fixed_dictionaries(
                    {"resourceType": resource_types}, optional={"subject": subjects}
                ),
            ),
            max_size=14,
        )
    )
    patient = draw(_weighted((5, scratch_patient(pid)), (1, prefetch_values)))
    prefetch: dict[str, Json] = {"patient": patient}
    split = draw(
        st.lists(
            st.sampled_from([*BUNDLE_KEYS, "extra"]),
            min_size=len(resources),
            max_size=len(resources),
        )
    )
    for key, resource in zip(split, resources, strict=True):
        prefetch.setdefault(key, _searchset([]))["entry"].append({"resource": resource})
    for key in draw(st.lists(st.sampled_from(PREFETCH_KEYS), max_size=2)):
        prefetch[key] = draw(prefetch_values)
    context: dict[str, Json] = {"userId": "Practitioner/1", "patientId": pid}
    if hook in ORDER_HOOKS:
        context["draftOrders"] = draft_orders(pid)
        if hook == "order-select":
            context["selections"] = ["ServiceRequest/sr-tace", "MedicationRequest/mr-sorafenib"]
    request: dict[str, Json] = {
        "hook": hook,
        "hookInstance": draw(st.uuids()).hex,
        "context": context,
        "prefetch": prefetch,
    }
    if draw(st.integers(0, 3)) == 0:
        request["fhirServer"] = draw(_weighted((3, st.just(FHIR_BASE)), (1, server_urls)))
        if draw(st.booleans()):
            request["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    services = [SERVICE_OF_HOOK[hook]] * 5 + ["hcc-assessment", "hcc-order-check"]
    service = draw(st.sampled_from(services))
    return service, request


# --- raw bodies -------------------------------------------------------------------------------


def _deep_text(depth: int, opener: str, closer: str) -> str:
    return '{"hook": "patient-view", "prefetch": ' + opener * depth + closer * depth + "}"


class RawBody(Printable):
    """Bytes and a content type, printed without the bytes."""

    def __init__(self, label: str, data: bytes, content_type: str) -> None:
        self.label, self.data, self.content_type = label, data, content_type

    def __repr__(self) -> str:
        return f"RawBody({self.label!r}, <{len(self.data)} bytes>, {self.content_type!r})"


content_types = st.sampled_from(
    [
        "application/json",
        "application/fhir+json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ]
)


def _truncated(args: tuple[str, float]) -> RawBody:
    text = base_text(args[0], PATIENT_VIEW).encode()
    cut = int(len(text) * args[1])
    return RawBody(f"{args[0]} cut at {cut}", text[:cut], "application/json")


raw_bodies = st.one_of(
    st.binary(max_size=200).map(lambda b: RawBody(f"binary {b[:20]!r}", b, "application/json")),
    st.tuples(st.sampled_from(FIXTURE_NAMES), st.floats(0, 1)).map(_truncated),
    st.sampled_from(
        [
            RawBody("null", b"null", "application/json"),
            RawBody("array", b"[1, 2]", "application/json"),
            RawBody("string", b'"patient-view"', "application/json"),
            RawBody("number", b"1e999", "application/json"),
            RawBody("NaN", b'{"hook": NaN, "hookInstance": Infinity}', "application/json"),
            RawBody("empty", b"", "application/json"),
            RawBody("BOM", b'\xef\xbb\xbf{"hook": "patient-view"}', "application/json"),
            RawBody("latin-1", '{"hook": "é"}'.encode("latin-1"), "application/json"),
            RawBody("utf-16", '{"hook": "patient-view"}'.encode("utf-16"), "application/json"),
            RawBody("lone surrogate", b'{"hook": "\\ud800"}', "application/json"),
            RawBody("duplicate keys", b'{"hook": "patient-view", "hook": 5}', "application/json"),
            RawBody("huge int", b'{"hook": ' + b"9" * 5000 + b"}", "application/json"),
            RawBody("form", b"hook=patient-view", "application/x-www-form-urlencoded"),
        ]
    ),
    # Nesting the stdlib parser handles (200) and nesting beyond Python's recursion limit.
    st.tuples(
        st.sampled_from([200, 900, 2_000, 100_000]), st.sampled_from([("[", "]"), ('{"a":', "}")])
    ).map(
        lambda t: RawBody(
            f"nesting {t[0]} x {t[1][0]}", _deep_text(t[0], *t[1]).encode(), "application/json"
        )
    ),
    st.tuples(st.sampled_from(FIXTURE_NAMES), content_types).map(
        lambda t: RawBody(f"{t[0]} as {t[1]!r}", base_text(t[0], PATIENT_VIEW).encode(), t[1])
    ),
)
raw_targets = st.sampled_from(
    [
        "/cds-services/hcc-assessment",
        "/cds-services/hcc-order-check",
        "/cds-services/hcc-assessment/feedback",
        "/cds-services/hcc-order-check/feedback",
        "/cds-services/nope",
        "/cds-services/nope/feedback",
        "/cds-services/%00",
        "/cds-services/hcc-assessment%2Ffeedback",
        "/cds-services/" + "x" * 5000,
    ]
)


# --- feedback ---------------------------------------------------------------------------------


def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


timestamp_texts = st.one_of(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.isoformat(timespec="seconds") + "Z"
    ),
    st.builds(
        lambda d, minutes: d.replace(tzinfo=_offset(minutes)).isoformat(),
        st.datetimes(),
        st.integers(min_value=-1439, max_value=1439),
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:30:00+00:31",
            "9999-12-31T23:59:59-00:01",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-15T24:00:00Z",
            "2026-11-15T23:59:60Z",
            "2026-11-15t10:00:00z",
            "2026-11-15 10:00:00Z",
            "2026-11-15T10:00:00",
            "2026-11-15T10:00:00+24:00",
            "2026-11-15T10:00:00-99:99",
            "2026-11-15T10:00:00.1234567890123Z",
            "2026-11-15T10:00:00.Z",
            "２０２６-11-15T10:00:00Z",
            "2026-11-15",
            "",
        ]
    ),
)
timestamps = st.one_of(timestamp_texts, wrong_types)
feedback_items = st.fixed_dictionaries(
    {
        "card": st.one_of(st.uuids().map(str), texts, huge_strings, wrong_types),
        "outcome": st.one_of(
            st.sampled_from(["accepted", "overridden", "Accepted", ""]), wrong_types
        ),
        "outcomeTimestamp": timestamps,
    },
    optional={
        "acceptedSuggestions": st.one_of(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries(
                        {"id": st.one_of(st.uuids().map(str), texts, wrong_types)}
                    ),
                    wrong_types,
                ),
                max_size=3,
            ),
            wrong_types,
        ),
        "overrideReason": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "reason": st.one_of(
                        st.fixed_dictionaries(
                            {
                                "system": st.one_of(texts, wrong_types),
                                "code": st.one_of(texts, huge_strings, wrong_types),
                            },
                            optional={"display": st.one_of(texts, wrong_types)},
                        ),
                        wrong_types,
                    ),
                    "userComment": st.one_of(texts, huge_strings, wrong_types),
                },
            ),
            wrong_types,
        ),
        "extra": garbage,
    },
)
valid_feedback_items = st.one_of(
    st.fixed_dictionaries(
        {
            "card": st.uuids().map(str),
            "outcome": st.just("accepted"),
            "outcomeTimestamp": timestamp_texts,
            "acceptedSuggestions": st.lists(
                st.fixed_dictionaries({"id": st.uuids().map(str)}), min_size=1, max_size=2
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "card": st.uuids().map(str),
            "outcome": st.just("overridden"),
            "outcomeTimestamp": st.just("2026-11-15T10:00:00Z"),
            "overrideReason": st.fixed_dictionaries(
                {
                    "userComment": st.one_of(
                        st.text(min_size=1, max_size=30), odd_strings, huge_strings
                    )
                },
                optional={
                    "reason": st.fixed_dictionaries(
                        {
                            "system": st.just(
                                "https://hcc-cds.example/fhir/CodeSystem/override-reason"
                            ),
                            "code": st.text(min_size=1, max_size=10),
                        },
                        optional={"display": st.text(max_size=10)},
                    )
                },
            ),
        }
    ),
)


@st.composite
def feedback_bodies(draw: st.DrawFn) -> Json:
    """``{"feedback": [...]}`` with valid, broken and re-delivered items, or garbage."""
    item = _weighted((8, valid_feedback_items), (1, feedback_items), (1, garbage))
    items = draw(st.lists(item, max_size=4))
    if items and draw(st.booleans()):
        items.append(items[draw(st.integers(0, len(items) - 1))])  # a re-delivery in the batch
    body: Json = {"feedback": items}
    return draw(
        st.one_of(
            st.just(body),
            st.just(body),
            st.just(body),
            st.one_of(wrong_types, garbage),
            st.builds(
                lambda extra: {**body, **extra},
                st.dictionaries(st.text(max_size=5), any_json, max_size=2),
            ),
            st.just({"feedback": {"0": items}}),
        )
    )


# --- a FHIR server without a network ----------------------------------------------------------


class Answer(Printable):
    """What the fake FHIR server answers to one kind of request."""

    def __init__(
        self, label: str, status: int = 200, body: bytes = b"", error: type | None = None
    ) -> None:
        self.label, self.status, self.body, self.error = label, status, body, error

    def __repr__(self) -> str:
        if self.error is not None:
            return f"Answer(raises {self.error.__name__})"
        return f"Answer({self.label}, {self.status}, <{len(self.body)} bytes>)"


class FakeFhirServer:
    """Stands in for every FHIR server the service calls: no request leaves the process.

    ``answers`` maps a resource type (the first path segment after the server's base) to an
    :class:`Answer`; without answers every request fails as if the network were down. Each URL
    requested is recorded in ``requested``; ``{page}`` in a body becomes a fresh page number, so
    that a server can page forever.
    """

    def __init__(self) -> None:
        self.answers: dict[str, Answer] | None = None
        self.requested: list[str] = []
        self.pages = 0

    def reset(self, answers: dict[str, Answer] | None = None) -> None:
        self.answers, self.requested, self.pages = answers, [], 0

    def session(self) -> requests.Session:
        session = requests.Session()
        adapter = _FakeAdapter(self)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def answer(self, request: requests.PreparedRequest) -> requests.Response:
        url = str(request.url)
        self.requested.append(url)
        if self.answers is None:
            raise requests.ConnectionError("the fuzz tests have no network")
        kind = urlsplit(url).path.removeprefix(urlsplit(FHIR_BASE).path).strip("/").split("/")[0]
        answer = self.answers.get(kind) or Answer(
            "not found", 404, b'{"resourceType": "OperationOutcome"}'
        )
        if answer.error is not None:
            raise answer.error("fake FHIR server failure")
        self.pages += 1
        response = requests.Response()
        response.status_code = answer.status
        response.raw = io.BytesIO(answer.body.replace(b"{page}", str(self.pages).encode()))
        response.url = url
        response.request = request
        response.headers = CaseInsensitiveDict({"Content-Type": "application/fhir+json"})
        return response


class _FakeAdapter(HTTPAdapter):
    def __init__(self, server: FakeFhirServer) -> None:
        super().__init__()
        self.server = server

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        return self.server.answer(request)


def _json_answer(label: str, value: Json, status: int = 200) -> Answer:
    return Answer(label, status, json.dumps(materialise(value)).encode())


def _bundle_answer(
    fixture: str, key: str, mutations: Sequence[Mutation], next_url: str | None
) -> Answer:
    bundle = json.loads(fixture_resources(fixture))[key]
    for mutation in mutations:
        bundle = mutation.apply(bundle)
    if next_url is not None and isinstance(bundle, dict):
        bundle["link"] = [{"relation": "next", "url": next_url}]
    label = f"{fixture}.{key} {list(mutations)} next={next_url!r}"
    return _json_answer(label, bundle)


def _resource_field_mutations(fields: Sequence[FieldSpec]) -> st.SearchStrategy[Mutation]:
    return entry_indices.flatmap(lambda i: field_mutations(("entry", i, "resource"), fields))


next_urls = st.one_of(
    st.none(),
    st.sampled_from(
        [
            f"{FHIR_BASE}/Observation?page={{page}}",
            "Observation?page={page}",
            f"{FHIR_BASE}/Observation?page=1",
            "https://elsewhere.example/fhir/Observation?page=2",
            "http://ehr.fuzz.invalid/fhir/Observation?page=2",
            "ftp://ehr.fuzz.invalid/x",
            "http://[::1",
            "",
        ]
    ),
)


def _patient_answer(fixture: str, mutations: Sequence[Mutation]) -> Answer:
    patient = json.loads(fixture_resources(fixture))["patient"]
    for mutation in mutations:
        patient = mutation.apply(patient)
    return _json_answer(f"{fixture}.patient {list(mutations)}", patient)


def server_answers(fixture: str, kind: str, key: str) -> st.SearchStrategy[Answer]:
    """Answers for one resource type: the fixture's data (changed), garbage, errors.

    The server's JSON is read by the standard library, so it may hold what a strict request
    parser refuses: integers beyond 64 bits, NaN, nesting beyond any limit.
    """
    fields = {
        "Observation": OBSERVATION_FIELDS,
        "Condition": CONDITION_FIELDS,
        "Procedure": PROCEDURE_FIELDS,
    }
    fixtures = st.sampled_from([fixture, fixture, fixture, *FIXTURE_NAMES])
    real = (
        st.builds(
            _patient_answer,
            fixtures,
            st.lists(field_mutations((), PATIENT_FIELDS), max_size=2),
        )
        if kind == "Patient"
        else st.builds(
            _bundle_answer,
            fixtures,
            st.just(key),
            st.lists(
                _resource_field_mutations(fields[kind]) | bundle_mutations_of_page(), max_size=3
            ),
            next_urls,
        )
    )
    return st.one_of(
        real,
        real,
        st.builds(_json_answer, st.just("garbage"), garbage),
        st.builds(_json_answer, st.just("bundle"), bundles),
        st.sampled_from(
            [
                Answer(
                    "OperationOutcome", 200, b'{"resourceType": "OperationOutcome", "issue": []}'
                ),
                Answer("html", 200, b"<html><body>Login</body></html>"),
                Answer("truncated", 200, b'{"resourceType": "Bundle", "entry": [{"reso'),
                Answer("not utf-8", 200, b'{"resourceType": "\xff\xfe"}'),
                Answer("empty", 200, b""),
                Answer("NaN", 200, b'{"resourceType": "Patient", "id": NaN}'),
                Answer("huge int", 200, b'{"resourceType": "Patient", "id": 1' + b"0" * 30 + b"}"),
                Answer("unauthorised", 401, b""),
                Answer("forbidden", 403, b"{}"),
                Answer("gone", 410, b""),
                Answer("teapot", 418, b"short and stout"),
                Answer("server error", 500, b"<html>oops</html>"),
                Answer("unavailable", 503, b""),
                Answer("redirect", 302, b""),
                Answer("deep", 200, _deep_text(3_000, "[", "]").encode()),
                Answer("timeout", error=requests.Timeout),
                Answer("refused", error=requests.ConnectionError),
                Answer("broken stream", error=requests.exceptions.ChunkedEncodingError),
                Answer("bad url", error=requests.exceptions.InvalidURL),
            ]
        ),
    )


def bundle_mutations_of_page() -> st.SearchStrategy[Mutation]:
    return st.one_of(
        entry_indices.map(lambda i: Delete(("entry", i, "resource"))),
        entry_indices.map(lambda i: Duplicate(("entry",), i)),
        garbage_entries.map(lambda e: Append(("entry",), e)),
        st.one_of(wrong_types, deep_values).map(lambda v: Set(("entry",), v)),
    )


class ServerRecipe(Printable):
    """A fixture request whose missing prefetch keys the fake FHIR server answers."""

    KEY_TYPES = {
        "patient": "Patient",
        "labs": "Observation",
        "findings": "Observation",
        "conditions": "Condition",
        "procedures": "Procedure",
    }

    def __init__(
        self,
        fixture: str,
        hook: str,
        absent: Sequence[str],
        as_outcome: Sequence[str],
        answers: dict[str, Answer],
        mutations: Sequence[Mutation],
    ) -> None:
        self.fixture, self.hook = fixture, hook
        self.absent, self.as_outcome = tuple(absent), tuple(as_outcome)
        self.answers, self.mutations = answers, tuple(mutations)

    @property
    def service(self) -> str:
        return SERVICE_OF_HOOK[self.hook]

    def build(self) -> Json:
        request = json.loads(base_text(self.fixture, self.hook))
        request["fhirServer"] = FHIR_BASE
        request["fhirAuthorization"] = {
            "access_token": "fuzz-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "cds-service",
        }
        for key in self.absent:
            request["prefetch"].pop(key, None)
        for key in self.as_outcome:
            request["prefetch"][key] = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "too-costly"}],
            }
        for mutation in self.mutations:
            request = mutation.apply(request)
        return request

    def __repr__(self) -> str:
        return (
            f"ServerRecipe({self.fixture!r}, {self.hook!r}, absent={list(self.absent)}, "
            f"as_outcome={list(self.as_outcome)}, answers={self.answers!r}, "
            f"mutations={list(self.mutations)!r})"
        )


@st.composite
def server_recipes(draw: st.DrawFn) -> ServerRecipe:
    """Some prefetch keys absent or OperationOutcomes, each fetched from a fuzzed server."""
    keys = draw(st.lists(st.sampled_from(PREFETCH_KEYS), min_size=1, max_size=5, unique=True))
    as_outcome = [k for k in keys if draw(st.booleans())]
    absent = [k for k in keys if k not in as_outcome]
    fixture = draw(st.sampled_from(FIXTURE_NAMES))
    answers = {}
    for key in keys:
        kind = ServerRecipe.KEY_TYPES[key]
        if kind not in answers:
            answers[kind] = draw(server_answers(fixture, kind, key))
    mutations = draw(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from(BUNDLE_KEYS), links).map(
                    lambda t: Set(("prefetch", t[0], "link"), t[1])
                ),
                st.sampled_from(BUNDLE_KEYS).map(
                    lambda k: Set(
                        ("prefetch", k, "link"),
                        [{"relation": "next", "url": f"{FHIR_BASE}/Observation?page=9"}],
                    )
                ),
                request_mutations,
            ),
            max_size=2,
        )
    )
    hook = draw(st.sampled_from(HOOKS))
    return ServerRecipe(fixture, hook, absent, as_outcome, answers, mutations)


def same_origin(url: str, base: str = FHIR_BASE) -> bool:
    """Whether ``url`` is on the FHIR server ``base`` (scheme, host and port)."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
