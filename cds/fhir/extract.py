"""FHIR resources → the clinical core's typed inputs. The only module that knows FHIR shapes.

For each input it selects the latest counting resource (docs/input-profile.md), validates that one
resource with its FHIR model, converts its unit by UCUM, and records where the value came from.
Anything unusable becomes an input with a problem, never a guessed value.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from functools import cache, cached_property
from typing import Any, TypeVar, cast

from cds.clinical.evidence import Fact, Lab, Source
from cds.clinical.inputs import (
    ConditionFinding,
    ConditionState,
    GradedFinding,
    HepaticVeinInvasion,
    LiverLabs,
    NotUsed,
    NotUsedKind,
    PatientInputs,
    PortalInvasion,
    RecordedGrade,
    Resection,
    Severity,
    Tumour,
    TumourPattern,
)
from cds.fhir import codes
from cds.fhir.codes import Code
from cds.fhir.record import PatientRecord, Resource
from cds.fhir.units import CANONICAL, UnitError, is_canonical, to_canonical, ucum_code
from cds.fhir.validate import problem as validation_problem

T = TypeVar("T")

COUNTING_OBSERVATION_STATUS = frozenset({"final", "amended", "corrected"})
PRELIMINARY = frozenset({"preliminary"})
# No lab here can be negative; a zero bilirubin, albumin, INR, haemoglobin or creatinine is a
# data error (a result below detection comes as a "<" bound), while a zero count can be real.
ZERO_IS_PLAUSIBLE = {"platelets", "anc", "ast", "alt", "afp"}
NOT_COUNTING_CONDITION_CLINICAL = {"inactive", "resolved", "remission"}
# Only a confirmed diagnosis (or one with no verification status) counts: provisional,
# differential and unconfirmed ones are not yet facts; refuted ones document an absence.
COUNTING_CONDITION_VERIFICATION = {"confirmed"}
RECURRENT_CLINICAL_STATUS = {"recurrence", "relapse"}


# --- reading FHIR values ------------------------------------------------------------------------


def codings(concept: Any) -> list[Code]:
    """(system, code) pairs of a CodeableConcept; display text is never read. Malformed codings
    (not objects, or a system or code that is not a string) are skipped, since they are read
    before validation."""
    if not isinstance(concept, dict):
        return []
    found = []
    coding = concept.get("coding")
    for c in coding if isinstance(coding, list) else []:
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            system = c.get("system")
            found.append((system if isinstance(system, str) else "", c["code"]))
    return found


def code_in(pair: Code, wanted: frozenset[Code]) -> bool:
    """Exact match, or an ICD-10 code whose prefix is listed (``C78`` matches ``C78.0``)."""
    if pair in wanted:
        return True
    system, code = pair
    if system not in codes.PREFIX_MATCHED_SYSTEMS:
        return False
    return any((system, code[:n]) in wanted for n in range(3, len(code)))


def concept_in(concept: Any, wanted: frozenset[Code]) -> bool:
    return any(code_in(pair, wanted) for pair in codings(concept))


def parse_date(value: Any) -> date | None:
    """The calendar date of a FHIR date/dateTime/instant as written (no time-zone shift)."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return date(int(value), 1, 1)
        if len(value) == 7:
            return date(int(value[:4]), int(value[5:7]), 1)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def observation_date(obs: Resource) -> date | None:
    """effectiveDateTime, else effectivePeriod.start, else effectiveInstant, else issued."""
    when = parse_date(obs.get("effectiveDateTime"))  # the common case first: it is per result
    if when is not None:
        return when
    period = obs.get("effectivePeriod")
    start = period.get("start") if isinstance(period, dict) else None
    for value in (start, obs.get("effectiveInstant"), obs.get("issued")):
        when = parse_date(value)
        if when is not None:
            return when
    return None


def condition_date(cond: Resource) -> date | None:
    return parse_date(cond.get("onsetDateTime")) or parse_date(cond.get("recordedDate"))


def ref(resource: Resource) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


def quantity_text(q: dict[str, Any]) -> str:
    unit = q.get("code") or q.get("unit") or ""
    return f"{q.get('comparator', '')}{q.get('value')} {unit}".strip()


# --- selecting resources ------------------------------------------------------------------------


class ObservationIndex:
    """Counting Observations by (system, code), newest first, dated on or before ``as_of``.

    With ``future`` it holds those dated *after* ``as_of`` instead, and ``statuses`` selects other
    statuses (the preliminary results): both are listed on the card as not used.
    """

    def __init__(
        self,
        observations: Iterable[Resource],
        as_of: date,
        statuses: frozenset[str] = COUNTING_OBSERVATION_STATUS,
        future: bool = False,
    ) -> None:
        self.by_code: dict[Code, list[tuple[date, Resource]]] = defaultdict(list)
        for obs in observations:
            status = obs.get("status")
            if not isinstance(status, str) or status not in statuses:
                continue
            read = {p for p in codings(obs.get("code")) if p in codes.READ_OBSERVATION_CODES}
            if not read:
                continue  # an Observation the service never reads (sodium, vitals…)
            when = observation_date(obs)
            if when is None or (when > as_of) is not future:
                continue
            for pair in read:
                self.by_code[pair].append((when, obs))
        for entries in self.by_code.values():
            entries.sort(key=lambda e: e[0], reverse=True)

    def latest(self, wanted: frozenset[Code]) -> tuple[date, Resource] | None:
        found = [entry for pair in wanted for entry in self.by_code.get(pair, [])[:1]]
        return max(found, key=lambda e: e[0]) if found else None

    def up_to(self, day: date) -> ObservationIndex:
        """A view answering :meth:`latest` as of an earlier ``day`` (a binary search per code,
        nothing copied): what the trends ask at every date."""
        return _IndexUpTo(self, day)

    def restricted(self, keep: Callable[[date], bool]) -> ObservationIndex:
        """A view holding only the Observations whose date passes ``keep``."""
        view = ObservationIndex((), date.max)
        for pair, entries in self.by_code.items():
            view.by_code[pair] = [e for e in entries if keep(e[0])]
        return view


class _IndexUpTo(ObservationIndex):
    def __init__(self, index: ObservationIndex, day: date) -> None:
        self.by_code = index.by_code
        self.day = -day.toordinal()

    def latest(self, wanted: frozenset[Code]) -> tuple[date, Resource] | None:
        found = []
        for pair in wanted:
            entries = self.by_code.get(pair, [])
            # Entries are newest first: the first one dated on or before the day.
            i = bisect_left(entries, self.day, key=lambda e: -e[0].toordinal())
            if i < len(entries):
                found.append(entries[i])
        return max(found, key=lambda e: e[0]) if found else None

    def restricted(self, keep: Callable[[date], bool]) -> ObservationIndex:
        return super().restricted(lambda d: d <= date.fromordinal(-self.day) and keep(d))


def verification(cond: Resource) -> set[str]:
    return {c for _, c in codings(cond.get("verificationStatus"))}


def counting_conditions(record: PatientRecord) -> list[Resource]:
    result = []
    for cond in record.of_type("Condition"):
        clinical = {c for _, c in codings(cond.get("clinicalStatus"))}
        verified = verification(cond)
        if clinical & NOT_COUNTING_CONDITION_CLINICAL:
            continue
        if verified and not verified & COUNTING_CONDITION_VERIFICATION:
            continue
        result.append(cond)
    return result


def refuted_conditions(record: PatientRecord) -> list[Resource]:
    """Conditions documented as ruled out (verificationStatus refuted)."""
    return [c for c in record.of_type("Condition") if "refuted" in verification(c)]


def latest_condition(conditions: list[Resource], wanted: frozenset[Code]) -> Resource | None:
    found = [c for c in conditions if concept_in(c.get("code"), wanted)]
    return max(found, key=lambda c: condition_date(c) or date.min) if found else None


def condition_source(cond: Resource) -> Source:
    """The Condition as a clinician knows it: the record's own name for it (shown, never matched
    on), its code, and a clinical status other than active ("resolved" matters to a history-of
    criterion)."""
    code = next(
        (f"{s.rsplit('/', 1)[-1]} {c}".strip() for s, c in codings(cond.get("code"))), "coded"
    )
    name = concept_name(cond.get("code"))
    shown = f"{name} ({code})" if name else code
    status = next((c for _, c in codings(cond.get("clinicalStatus"))), "active")
    if status != "active":
        shown += f", {status}"
    return Source(ref(cond), condition_date(cond), shown)


def concept_name(concept: Any) -> str | None:
    """A CodeableConcept's text, else its first coding's display (patient data, echoed back)."""
    if not isinstance(concept, dict):
        return None
    displays = [c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)]
    for text in (concept.get("text"), *displays):
        if isinstance(text, str) and text.strip():
            return " ".join(text.replace("\u200b", "").split())[:80]
    return None


# --- the extractor ------------------------------------------------------------------------------


class Extractor:
    """Builds :class:`PatientInputs` from one patient's record on an assessment date."""

    def __init__(
        self,
        record: PatientRecord,
        as_of: date,
        index: ObservationIndex | None = None,
        labs_read: dict[tuple[str, int], Lab] | None = None,
    ) -> None:
        self.record = record
        self.as_of = as_of
        self.index = index or ObservationIndex(record.of_type("Observation"), as_of)
        # Labs already read, by analyte and Observation: the trends read the same results at
        # many dates (a result reads the same whatever the date; only its age differs).
        self.labs_read = labs_read if labs_read is not None else {}
        self.conditions = counting_conditions(record)
        self.problems: list[str] = list(record.notes)

    @cached_property
    def future(self) -> ObservationIndex:
        """The Observations dated after the assessment date (listed as not used)."""
        return ObservationIndex(self.record.of_type("Observation"), self.as_of, future=True)

    @cached_property
    def preliminary(self) -> ObservationIndex:
        """The preliminary Observations (listed as not used when newer than the final ones)."""
        return ObservationIndex(self.record.of_type("Observation"), self.as_of, PRELIMINARY)

    def valid(self, resource: Resource) -> bool:
        """Validate a selected resource; an invalid one is reported and not used."""
        issue = validation_problem(resource)
        if issue:
            self.problems.append(issue)
        return issue is None

    def lab(self, analyte: str, index: ObservationIndex | None = None) -> Lab | None:
        hit = (index or self.index).latest(codes.LAB_CODES[analyte])
        return None if hit is None else self.lab_from(analyte, *hit)

    def lab_history(self, analyte: str, since: date) -> list[Lab]:
        """Every counting result of the analyte dated from ``since`` to ``as_of``, oldest first
        (a result coded twice, e.g. under two LOINC codes, is read once)."""
        seen: set[int] = set()
        found = []
        for pair in codes.LAB_CODES[analyte]:
            for when, obs in self.index.by_code.get(pair, []):
                if when >= since and id(obs) not in seen:
                    seen.add(id(obs))
                    found.append(self.lab_from(analyte, when, obs))
        return sorted(found, key=lambda lab: (lab.source.date or date.min, lab.source.resource))

    def lab_from(self, analyte: str, when: date, obs: Resource) -> Lab:
        """One Observation as a lab in the analyte's canonical unit, or with the problem."""
        key = (analyte, id(obs))
        if key not in self.labs_read:
            self.labs_read[key] = self.read_lab(analyte, when, obs)
        return self.labs_read[key]

    def read_lab(self, analyte: str, when: date, obs: Resource) -> Lab:
        source_id = ref(obs)
        q = obs.get("valueQuantity")
        canonical = CANONICAL[analyte].unit
        if not self.valid(obs):
            return Lab(None, canonical, Source(source_id, when, ""), problem="invalid-resource")
        if not isinstance(q, dict) or not isinstance(q.get("value"), int | float):
            return Lab(None, canonical, Source(source_id, when, ""), problem="no-numeric-value")
        source = Source(source_id, when, quantity_text(q))
        if q.get("comparator"):
            return Lab(None, canonical, source, problem="bound")
        unit = ucum_code(q.get("code"), q.get("system"), q.get("unit"))
        shown = str(q.get("code") or q.get("unit") or "")[:40]
        if unit is None and shown and canonical != "1":
            # a unit is written but is neither UCUM nor a spelling we know: not "no unit"
            return Lab(None, canonical, source, problem="unit-invalid", problem_detail=shown)
        try:
            value = to_canonical(float(q["value"]), unit, analyte)
        except UnitError as exc:
            return Lab(None, canonical, source, problem=exc.problem, problem_detail=shown)
        if value < 0 or (value == 0 and analyte not in ZERO_IS_PLAUSIBLE):
            return Lab(None, canonical, source, problem="implausible")
        uln = self.reference_high(obs, analyte)
        as_reported = not is_canonical(unit, analyte)
        return Lab(
            value,
            canonical,
            source,
            uln=uln,
            uln_assumed=uln is None,
            reported_value=float(q["value"]) if as_reported else None,
            reported_unit=unit if as_reported else None,
        )

    @staticmethod
    def reference_high(obs: Resource, analyte: str) -> float | None:
        for rng in obs.get("referenceRange") or []:
            high = rng.get("high") if isinstance(rng, dict) else None
            if isinstance(high, dict) and isinstance(high.get("value"), int | float):
                unit = ucum_code(high.get("code"), high.get("system"), high.get("unit"))
                try:
                    return to_canonical(float(high["value"]), unit, analyte)
                except UnitError:
                    return None
        return None

    def fact(
        self,
        wanted: frozenset[Code] | Code,
        read: Callable[[Resource], T | None],
        index: ObservationIndex | None = None,
    ) -> Fact[T] | None:
        """The latest Observation's value read by ``read``; ``None`` if absent or unreadable."""
        wanted_set = wanted if isinstance(wanted, frozenset) else frozenset([wanted])
        hit = (index or self.index).latest(wanted_set)
        if hit is None:
            return None
        when, obs = hit
        if not self.valid(obs):
            return None
        value = read(obs)
        if value is None:
            self.problems.append(f"{ref(obs)}: value not understood")
            return None
        return Fact(value, Source(ref(obs), when, describe_value(obs)))

    def labs(self) -> LiverLabs:
        return LiverLabs(**{name: self.lab(name) for name in codes.LAB_CODES})

    def graded(self, wanted: frozenset[Code]) -> GradedFinding:
        """The worst documented grade; a refuted Condition documents its absence."""
        found = [c for c in self.conditions if concept_in(c.get("code"), wanted)]
        if not found:
            ruled_out = [
                c for c in refuted_conditions(self.record) if concept_in(c.get("code"), wanted)
            ]
            if ruled_out:
                return GradedFinding(Severity.ABSENT, condition_source(ruled_out[0]))
            return GradedFinding(Severity.NOT_DOCUMENTED)
        worst = max(found, key=severity_rank)
        return GradedFinding(severity_of(worst), condition_source(worst), recorded_grade(worst))

    def condition(self, wanted: frozenset[Code]) -> Source | None:
        """The latest counting Condition with one of the codes. A Condition that fails
        validation still counts (a coded diagnosis is not dropped) and the problem is reported."""
        cond = latest_condition(self.conditions, wanted)
        if cond is None:
            return None
        self.valid(cond)
        return condition_source(cond)

    def tumour(self, resection: Resection | None) -> Tumour:
        """Tumour findings. After a documented recurrence only findings from the recurrence on
        describe the present tumour: earlier imaging and pathology were of the resected one."""
        now = self.current_index(resection)

        def latest(*facts: Fact[T] | None) -> Fact[T] | None:
            dated = [f for f in facts if f is not None]
            return max(dated, key=lambda f: f.source.date or date.min) if dated else None

        nodes = latest(
            self.fact(codes.AJCC_N, read_ajcc("N"), now),
            self.fact(codes.REGIONAL_NODE_METASTASIS, read_boolean, now),
        )
        mets = latest(
            self.fact(codes.AJCC_M, read_ajcc("M"), now),
            self.fact(codes.EXTRAHEPATIC_METASTASIS, read_boolean, now),
        )
        # An active metastasis Condition is the current state, whatever an older staging said.
        nodal = self.condition(codes.NODAL_METASTASIS_CONDITIONS)
        distant = self.condition(codes.DISTANT_METASTASIS_CONDITIONS)
        return Tumour(
            nodule_count=self.fact(codes.NODULE_COUNT, read_positive_integer, now),
            largest_cm=self.fact(codes.TUMOUR_SIZE, read_size_cm, now),
            portal_invasion=self.fact(
                codes.PORTAL_VEIN_INVASION, read_grade(codes.VP_GRADES, PortalInvasion), now
            ),
            hepatic_vein_invasion=self.fact(
                codes.HEPATIC_VEIN_INVASION, read_grade(codes.VV_GRADES, HepaticVeinInvasion), now
            ),
            bile_duct_invasion=self.fact(codes.BILE_DUCT_INVASION, read_boolean, now),
            microvascular_invasion=self.fact(codes.MICROVASCULAR_INVASION, read_boolean, now),
            adjacent_organ_invasion=self.fact(codes.ADJACENT_ORGAN_INVASION, read_boolean, now),
            regional_nodes=Fact(True, nodal) if nodal else nodes,
            distant_metastasis=Fact(True, distant) if distant else mets,
            pattern=self.fact(codes.TUMOUR_PATTERN, read_pattern, now),
            within_transplant_criteria=self.fact(
                codes.WITHIN_TRANSPLANT_CRITERIA, read_boolean, now
            ),
            recorded_t=self.fact(codes.AJCC_T, read_ajcc_t, now),
        )

    def resection(self) -> Resection | None:
        procedures = [
            p
            for p in self.record.of_type("Procedure")
            if p.get("status") == "completed" and concept_in(p.get("code"), codes.HEPATECTOMY)
        ]
        dated = [(procedure_date(p), p) for p in procedures]
        dated = [(d, p) for d, p in dated if d is None or d <= self.as_of]
        if not dated:
            return None
        performed, proc = max(dated, key=lambda e: e[0] or date.min)
        if not self.valid(proc):
            return None
        recurrence = self.recurrence_after(performed)
        specimen = self.index
        recurred_on = recurrence.source.date if recurrence and recurrence.value else None
        if recurred_on is not None:
            specimen = self.index.restricted(lambda d: d < recurred_on)
        return Resection(
            Source(ref(proc), performed, "hepatectomy"),
            performed,
            margin=self.fact(codes.RESECTION_MARGIN, read_margin, specimen),
            recurrence=recurrence,
            microvascular_invasion=self.fact(codes.MICROVASCULAR_INVASION, read_boolean, specimen),
        )

    def current_index(self, resection: Resection | None) -> ObservationIndex:
        """After a documented recurrence, pathology from before it describes the resected tumour,
        not the present one: current staging reads only findings from the recurrence on."""
        recurrence = resection.recurrence if resection else None
        if recurrence is None or not recurrence.value or recurrence.source.date is None:
            return self.index
        since = recurrence.source.date
        return self.index.restricted(lambda d: d >= since)

    def recurrence_after(self, performed: date | None) -> Fact[bool] | None:
        """Recurrence: an HCC Condition whose clinical status is recurrence or relapse, or whose
        onset is after the hepatectomy, or the project's recurrence Observation dated after it.
        A Condition merely *recorded* after surgery is not a recurrence (it may be the resected
        tumour, entered late)."""
        for cond in self.conditions:
            if not concept_in(cond.get("code"), codes.HCC):
                continue
            clinical = {c for _, c in codings(cond.get("clinicalStatus"))}
            onset = parse_date(cond.get("onsetDateTime"))
            if clinical & RECURRENT_CLINICAL_STATUS or (performed and onset and onset > performed):
                return Fact(True, condition_source(cond))
        observed = self.fact(codes.HCC_RECURRENCE, read_boolean)
        if observed and performed and observed.source.date and observed.source.date > performed:
            return observed
        return None

    def resection_hints(self) -> tuple[Source, ...]:
        """Signs of a prior resection (a recurrence, margin or MVI finding) for when no
        recognised hepatectomy Procedure is documented: the Peng question is then open."""
        hints = [
            f.source
            for f in (
                self.fact(codes.RESECTION_MARGIN, read_margin),
                self.fact(codes.HCC_RECURRENCE, read_boolean),
            )
            if f is not None
        ]
        for cond in self.conditions:
            clinical = {c for _, c in codings(cond.get("clinicalStatus"))}
            if concept_in(cond.get("code"), codes.HCC) and clinical & RECURRENT_CLINICAL_STATUS:
                hints.append(condition_source(cond))
        return tuple(hints)

    def condition_findings(self) -> tuple[ConditionFinding, ...]:
        """Every Condition that bears on a trial exclusion, with its clinical state: the protocol
        rules decide which states count (history-of criteria count resolved ones too)."""
        found = []
        for cond in self.record.of_type("Condition"):
            concepts = exclusion_concepts(cond)
            state = condition_state(cond) if concepts else None
            if state is None:
                continue
            if state is not ConditionState.REFUTED:
                self.valid(cond)
            source, onset = condition_source(cond), parse_date(cond.get("onsetDateTime"))
            found += [ConditionFinding(c, source, state, d, onset) for c, d in concepts]
        return tuple(found)

    def not_used(self, labs: LiverLabs, ecog: Fact[int] | None, tumour: Tumour) -> list[NotUsed]:
        """Results left out: dated after the assessment date, or preliminary and newer than the
        final result used (or with no final one). The core weighs whether they would matter."""
        kinds: tuple[tuple[NotUsedKind, ObservationIndex], ...] = (
            ("future-dated", self.future),
            ("preliminary-newer", self.preliminary),
        )
        found = []
        for analyte in codes.LAB_CODES:
            used: Lab | None = getattr(labs, analyte)
            for kind, index in kinds:
                lab = self.lab(analyte, index)
                if lab is None or lab.value is None:
                    continue
                if kind == "preliminary-newer" and not newer(lab.source, used):
                    continue
                found.append(NotUsed(kind, analyte, lab))
        readers = {"ecog": (codes.ECOG, read_ecog), **tumour_readers()}
        for target, (wanted, reader) in readers.items():
            used_fact = ecog if target == "ecog" else getattr(tumour, target)
            for kind, index in kinds:
                fact = self.fact(wanted, reader, index)
                if fact is None:
                    continue
                if kind == "preliminary-newer" and not newer(fact.source, used_fact):
                    continue
                found.append(NotUsed(kind, target, fact))
        return found

    def ecog(self) -> Fact[int] | None:
        return self.fact(codes.ECOG, read_ecog)

    def birth_date(self) -> date | None:
        """A full birth date only: a year or month alone would make the age a guess."""
        patient = self.record.patient
        born = patient.get("birthDate")
        if not self.valid(patient) or not isinstance(born, str) or len(born) != len("2000-01-01"):
            return None
        return parse_date(born)

    def inputs(self) -> PatientInputs:
        resection = self.resection()
        labs, ecog, tumour = self.labs(), self.ecog(), self.tumour(resection)
        inputs = PatientInputs(
            patient=ref(self.record.patient),
            birth_date=self.birth_date(),
            hcc=self.condition(codes.HCC),
            labs=labs,
            ecog=ecog,
            ascites=self.graded(codes.ASCITES),
            encephalopathy=self.graded(codes.ENCEPHALOPATHY),
            cholestatic_disease=self.condition(codes.CHOLESTATIC),
            resection=resection,
            resection_hints=() if resection else self.resection_hints(),
            tumour=tumour,
            condition_findings=self.condition_findings(),
            not_used=tuple(self.not_used(labs, ecog, tumour)),
            diagnoses_available="Condition" not in self.record.unavailable,
        )
        # Problems are collected while the fields above are read, so they are added last.
        return replace(inputs, data_problems=tuple(self.problems))


def extract(record: PatientRecord, as_of: date) -> PatientInputs:
    """The clinical inputs of one patient on ``as_of``."""
    return Extractor(record, as_of).inputs()


def lab_histories(
    record: PatientRecord,
    analytes: Iterable[str],
    since: date,
    until: date,
    index: ObservationIndex | None = None,
) -> dict[str, list[Lab]]:
    """Each analyte's results from ``since`` to ``until``, oldest first, in canonical units
    (``index``: the record's Observations indexed on ``until``, when already built)."""
    extractor = Extractor(record, until, index)
    return {name: extractor.lab_history(name, since) for name in analytes}


def documented_by(record: PatientRecord, day: date) -> PatientRecord:
    """The record as it stood on ``day`` for Conditions: those dated later are left out (an
    undated Condition is kept, as the assessment keeps it). Observations need no such view:
    the extractor's index already drops results dated after its date."""
    conditions = [c for c in record.of_type("Condition") if (condition_date(c) or date.min) <= day]
    return replace(record, by_type={**record.by_type, "Condition": conditions}, notes=[])


def liver_inputs_over_time(
    record: PatientRecord, days: Iterable[date], index: ObservationIndex | None = None
) -> list[PatientInputs]:
    """The inputs of Child-Pugh and ALBI as they stood on each day: the latest labs on or
    before it (the scores judge their age), ascites, encephalopathy and cholestatic disease as
    documented by then. One index of the Observations serves every day."""
    days = list(days)
    if not days:
        return []
    index = index or ObservationIndex(record.of_type("Observation"), max(days))
    labs_read: dict[tuple[str, int], Lab] = {}
    found = []
    for day in days:
        extractor = Extractor(documented_by(record, day), day, index.up_to(day), labs_read)
        found.append(
            PatientInputs(
                patient=ref(record.patient),
                birth_date=None,
                hcc=None,
                labs=LiverLabs(
                    bilirubin=extractor.lab("bilirubin"),
                    albumin=extractor.lab("albumin"),
                    inr=extractor.lab("inr"),
                ),
                ascites=extractor.graded(codes.ASCITES),
                encephalopathy=extractor.graded(codes.ENCEPHALOPATHY),
                cholestatic_disease=extractor.condition(codes.CHOLESTATIC),
            )
        )
    return found


def tumour_findings_by_date(
    record: PatientRecord, until: date, index: ObservationIndex | None = None
) -> list[tuple[date, Tumour]]:
    """For each date with a tumour finding, what was documented on that very date (no carry
    forward from earlier dates), read as the assessment reads it."""
    index = index or ObservationIndex(record.of_type("Observation"), until)
    finding_codes = (codes.TUMOUR_SIZE | codes.AJCC_T | codes.AJCC_N | codes.AJCC_M) | frozenset(
        codes.PROJECT_OBSERVATIONS
    )
    days = sorted({d for pair in finding_codes for d, _ in index.by_code.get(pair, [])})
    found = []
    for day in days:
        view = index.restricted(day.__eq__)
        found.append((day, Extractor(documented_by(record, day), day, view).tumour(None)))
    return found


# --- value readers (each returns None when it cannot read the value) -----------------------------


def describe_value(obs: Resource) -> str:
    if isinstance(obs.get("valueQuantity"), dict):
        return quantity_text(obs["valueQuantity"])
    for key in ("valueInteger", "valueBoolean", "valueString"):
        if key in obs:
            return f"{obs[key]}".lower() if key == "valueBoolean" else f"{obs[key]}"
    pairs = codings(obs.get("valueCodeableConcept"))
    return pairs[0][1] if pairs else "recorded"


def read_boolean(obs: Resource) -> bool | None:
    value = obs.get("valueBoolean")
    return value if isinstance(value, bool) else None


def read_positive_integer(obs: Resource) -> int | None:
    value = obs.get("valueInteger")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def read_size_cm(obs: Resource) -> float | None:
    q = obs.get("valueQuantity")
    if not isinstance(q, dict):
        for comp in obs.get("component") or []:
            if isinstance(comp, dict) and codes.TUMOUR_MAX_DIMENSION in codings(comp.get("code")):
                q = comp.get("valueQuantity")
    if not isinstance(q, dict) or not isinstance(q.get("value"), int | float):
        return None
    try:
        return to_canonical(
            float(q["value"]), ucum_code(q.get("code"), q.get("system"), q.get("unit")), "size"
        )
    except UnitError:
        return None


def project_value(obs: Resource, table: dict[str, Any]) -> Any:
    for system, code in codings(obs.get("valueCodeableConcept")):
        if system == codes.HCC_CDS and code in table:
            return table[code]
    return None


def read_grade(
    table: dict[str, int], enum_type: Callable[[int], T]
) -> Callable[[Resource], T | None]:
    def read(obs: Resource) -> T | None:
        grade = project_value(obs, table)
        return None if grade is None else enum_type(grade)

    return read


def read_margin(obs: Resource) -> str | None:
    margin = project_value(obs, codes.MARGINS)
    return margin if isinstance(margin, str) else None


def read_pattern(obs: Resource) -> TumourPattern | None:
    value = project_value(obs, codes.PATTERNS)
    return None if value is None else TumourPattern(value)


def ajcc_category(obs: Resource) -> str | None:
    """``cN0`` / ``pT2`` / ``N1`` → ``N0`` / ``T2`` / ``N1`` (cancerstaging.org codes only)."""
    for system, code in codings(obs.get("valueCodeableConcept")):
        if system == codes.AJCC:
            return code.lstrip("ycpra")
    return None


def read_ajcc(axis: str) -> Callable[[Resource], bool | None]:
    """N or M category → True (N1/M1), False (N0/M0), None (NX or unreadable)."""

    def read(obs: Resource) -> bool | None:
        category = ajcc_category(obs)
        if category is None or not category.startswith(axis) or category.endswith("X"):
            return None
        return not category.startswith(f"{axis}0")

    return read


def read_ajcc_t(obs: Resource) -> str | None:
    category = ajcc_category(obs)
    return category if category in ("T1a", "T1b", "T2", "T3", "T4") else None


def read_ecog(obs: Resource) -> int | None:
    value = obs.get("valueInteger")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 5:
        return value
    for system, code in codings(obs.get("valueCodeableConcept")):
        if system == codes.LOINC and code in codes.ECOG_ANSWERS:
            return codes.ECOG_ANSWERS[code]
    return None


def severity_of(cond: Resource) -> Severity:
    """The Child-Pugh grade: moderate and severe score alike (the recorded grade, banded)."""
    if concept_in(cond.get("code"), codes.ENCEPHALOPATHY_COMA):
        return Severity.MODERATE_OR_SEVERE  # coma is grade 4, whatever the severity field says
    grade = recorded_grade(cond)
    if grade is None:
        return Severity.SEVERITY_NOT_RECORDED
    return Severity.MILD if grade == "mild" else Severity.MODERATE_OR_SEVERE


def recorded_grade(cond: Resource) -> RecordedGrade | None:
    """The grade as the Condition's severity names it (a card shows "moderate", not the
    Child-Pugh band "moderate or severe")."""
    severity = cond.get("severity")
    for grade, wanted in (
        ("severe", codes.SEVERITY_SEVERE),
        ("moderate", codes.SEVERITY_MODERATE),
        ("mild", codes.SEVERITY_MILD),
    ):
        if concept_in(severity, wanted):
            return cast(RecordedGrade, grade)
    return None


def severity_rank(cond: Resource) -> int:
    return {Severity.MILD: 1, Severity.SEVERITY_NOT_RECORDED: 2, Severity.MODERATE_OR_SEVERE: 3}[
        severity_of(cond)
    ]


def procedure_date(proc: Resource) -> date | None:
    period = proc.get("performedPeriod")
    start = period.get("start") if isinstance(period, dict) else None
    return parse_date(proc.get("performedDateTime")) or parse_date(start)


def newer(candidate: Source, used: Lab | Fact[Any] | None) -> bool:
    """A preliminary result counts as newer when there is no final one, or it is dated later."""
    if used is None:
        return True
    return used.source.date is None or (
        candidate.date is not None and candidate.date > used.source.date
    )


def condition_state(cond: Resource) -> ConditionState | None:
    """Active, resolved (inactive, resolved, remission) or refuted; ``None`` when the Condition
    is not a fact (entered in error, provisional, differential, unconfirmed)."""
    verified = verification(cond)
    if "refuted" in verified:
        return ConditionState.REFUTED
    if verified and not verified & COUNTING_CONDITION_VERIFICATION:
        return None
    clinical = {c for _, c in codings(cond.get("clinicalStatus"))}
    if clinical & NOT_COUNTING_CONDITION_CLINICAL:
        return ConditionState.RESOLVED
    return ConditionState.ACTIVE


def tumour_readers() -> dict[str, tuple[frozenset[Code] | Code, Callable[[Resource], Any]]]:
    """The tumour findings read from one Observation code each, by input name."""
    return {
        "nodule_count": (codes.NODULE_COUNT, read_positive_integer),
        "largest_cm": (codes.TUMOUR_SIZE, read_size_cm),
        "portal_invasion": (
            codes.PORTAL_VEIN_INVASION,
            read_grade(codes.VP_GRADES, PortalInvasion),
        ),
        "hepatic_vein_invasion": (
            codes.HEPATIC_VEIN_INVASION,
            read_grade(codes.VV_GRADES, HepaticVeinInvasion),
        ),
        "bile_duct_invasion": (codes.BILE_DUCT_INVASION, read_boolean),
        "adjacent_organ_invasion": (codes.ADJACENT_ORGAN_INVASION, read_boolean),
        "regional_nodes": (codes.REGIONAL_NODE_METASTASIS, read_boolean),
        "distant_metastasis": (codes.EXTRAHEPATIC_METASTASIS, read_boolean),
        "pattern": (codes.TUMOUR_PATTERN, read_pattern),
        "within_transplant_criteria": (codes.WITHIN_TRANSPLANT_CRITERIA, read_boolean),
    }


@cache
def exclusion_code_index() -> dict[Code, tuple[tuple[str, bool], ...]]:
    """(system, code) → the exclusion concepts it documents, and whether it decides them."""
    index: dict[Code, list[tuple[str, bool]]] = defaultdict(list)
    for table, decides in (
        (codes.EXCLUSION_CONDITIONS, True),
        (codes.EXCLUSION_REVIEW_CONDITIONS, False),
    ):
        for concept, wanted in table.items():
            for pair in wanted:
                index[pair].append((concept, decides))
    return {pair: tuple(found) for pair, found in index.items()}


def exclusion_concepts(cond: Resource) -> list[tuple[str, bool]]:
    """The exclusion concepts a Condition's codes document (ICD-10 codes match by prefix, as
    :func:`code_in` does), and another cancer."""
    index = exclusion_code_index()
    found: list[tuple[str, bool]] = []
    for system, code in codings(cond.get("code")):
        prefixes = range(3, len(code) + 1) if system in codes.PREFIX_MATCHED_SYSTEMS else ()
        for key in {(system, code), *((system, code[:n]) for n in prefixes)}:
            found += [c for c in index.get(key, ()) if c not in found]
    if is_other_cancer(cond):
        found.append(("other-cancer", not is_cancer_exception(cond)))
    return found


def is_cancer_exception(cond: Resource) -> bool:
    """A cancer the registry's exceptions may cover (basal cell, superficial bladder)."""
    return any(
        system in codes.PREFIX_MATCHED_SYSTEMS
        and code.startswith(codes.OTHER_CANCER_EXCEPTION_PREFIXES)
        for system, code in codings(cond.get("code"))
    )


def is_other_cancer(cond: Resource) -> bool:
    """An ICD-10 malignant neoplasm (C00–C97) that is neither HCC nor a secondary."""
    for system, code in codings(cond.get("code")):
        if (
            system in codes.PREFIX_MATCHED_SYSTEMS
            and code.startswith("C")
            and not code.startswith(codes.NOT_OTHER_CANCER_PREFIXES)
        ):
            return True
    return False
