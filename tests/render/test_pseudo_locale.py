"""Every clinician-visible word comes from the catalogue: render everything in a pseudo-locale.

The pseudo-locale turns every letter of the English catalogue into a look-alike (a → á …),
leaving the Jinja placeholders alone. Every fixture's cards (patient view and order checks), the
``cds assess`` summary and the JSON text are rendered in it; any English word left over came from
code, not from the catalogue. Exempt (issue 7): the patient's own data echoed back (parameter
values and sources, as written in the record), and names of drugs, trials, scores, stages, units
and codes that the code emits as identifiers.
"""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from typing import Any

import pytest

from cds.app.settings import AppSettings
from cds.app.workup import DEMO_FIXTURE, Loaded, page
from cds.fhir.record import load_record
from cds.paths import data_dir
from cds.pipeline import assess_record
from cds.render import messages as messages_module
from cds.render.cards import patient_view_cards
from cds.render.messages import Messages, messages
from cds.render.order_cards import order_cards
from cds.report.assessment_json import to_json
from cds.report.text import to_text
from tests.render.cases import NAMES, assessment, verdicts

LOOKALIKE = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "áƀçđéƒǧħíĵķłɱñóƥʠŕšŧúʋŵẋýžÁƁÇĐÉƑǦĦÍĴĶŁṀÑÓƤɊŔŠŦÚṼŴẊÝŽ",
)
# Jinja blocks, and the app's str.format fields ({months}: cards/en/app.json).
PLACEHOLDER = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{\w+\})")
# Names the code emits as identifiers (stages, categories, scores, trial ids, FHIR types).
EXEMPT = re.compile(
    r"\b(?:[IV]+[AB]?|T[1-4][ab]?|N[01X]|M[01X]|B[123]|NCT\d+|Vp\d|Vv\d|T\?|N\?|M\?)\b"
)
WORD = re.compile(r"[A-Za-z]{2,}")
ENTITY = re.compile(r"&[a-z]+;")  # the renderer's escaping of < and >


def pseudo(text: str) -> str:
    """Letters outside the Jinja blocks become look-alikes."""
    parts = PLACEHOLDER.split(text)
    return "".join(p if PLACEHOLDER.fullmatch(p) else p.translate(LOOKALIKE) for p in parts)


AS_OF = date(2026, 11, 15)
PSEUDO = Messages({k: pseudo(v) for k, v in messages("en").catalogue.items()}, "pseudo")


def echoed(document: Any) -> set[str]:
    """Every string in the JSON that is patient data or an identifier: parameter values,
    sources, codes and ids (exempt), but not the rendered texts themselves."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key not in ("text", "label", "line"):
            found.add(node)

    walk(document)
    return found


def leftover_english(texts: list[str], exempt: set[str]) -> list[str]:
    words = []
    for text in texts:
        for value in sorted(exempt, key=len, reverse=True):
            if len(value) > 1:
                text = text.replace(value, " ")
        text = EXEMPT.sub(" ", ENTITY.sub(" ", text))
        words += WORD.findall(text)
    return sorted(set(words))


def card_texts(card: dict[str, Any]) -> list[str]:
    texts = [card["summary"], card["detail"], card["source"]["label"]]
    texts.append(card["source"]["topic"]["display"])
    texts += [r["display"] for r in card["overrideReasons"]]
    texts += [link["label"] for link in card.get("links", [])]
    for s in card.get("suggestions", []):
        texts.append(s["label"])
        for action in s["actions"]:
            texts.append(action["description"])
            resource = action.get("resource", {})  # a delete action has none
            texts.append(resource.get("code", {}).get("text", ""))
            texts.append(resource.get("medicationCodeableConcept", {}).get("text", ""))
            texts += [d["text"] for d in resource.get("dosageInstruction", [])]
            texts += [n["text"] for n in resource.get("note", [])]
    return texts


def json_texts(document: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "label", "line") and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(document)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_everything_renders_in_the_pseudo_locale(name):
    assessed = assessment(name)
    document = to_json(assessed, PSEUDO)
    exempt = echoed(document)
    texts = json_texts(document)
    texts.append(to_text(document, PSEUDO))
    judged = verdicts(assessed)
    exempt |= {v.order.resource_id for v in judged if v.order.resource_id}  # the draft's id
    exempt |= {v.dose.text for v in judged if v.dose and v.dose.text}  # its dose as written
    for card in patient_view_cards(document, "p", PSEUDO) + order_cards(
        judged, document, "p", PSEUDO
    ):
        texts += card_texts(card)
    assert leftover_english(texts, exempt) == []


def test_the_check_finds_english():
    """The detector itself: an English word outside the catalogue is found."""
    assert leftover_english([pseudo("Child-Pugh") + " stale"], set()) == ["stale"]
    assert json.dumps(pseudo("{{ analyte }} x")).count("analyte") == 1


def strings_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(strings_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(strings_in(v) for v in node))
    return {node} if isinstance(node, str) else set()


def test_the_work_up_page_renders_in_the_pseudo_locale(monkeypatch):
    """The SMART app's page (cds/app) takes every word from the catalogue too: the demo
    patient's work-up, trends and plots included, rendered with the pseudo-locale."""
    monkeypatch.setattr(messages_module, "load", lambda locale: PSEUDO)
    bundle = json.loads((data_dir("fhir_fixtures") / DEMO_FIXTURE).read_text(encoding="utf-8"))
    record = load_record(bundle)
    html = page(Loaded(record), AS_OF, AppSettings.from_config({}))
    document = to_json(assess_record(record, AS_OF), PSEUDO)
    # Exempt: the record's own strings (ids, codes, units as written) echoed on the page.
    exempt = echoed(document) | strings_in(bundle)
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S))
    assert leftover_english([unescape(words)], exempt) == []
