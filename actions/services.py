"""Other agencies and municipal services: who does it and how, from city.yml, never a ticket."""
import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import label, language_of, typed_text
from civic.city import City, get_city
from civic.knowledge import find_agency, find_service, power_kind, service_of_the_complaint_named

POWER_AGENCY = "electricity"
# Agencies answered as an emergency: the number first, no "not the Nagar Nigam's work".
EMERGENCIES = frozenset({"police", "ambulance", "fire", "women_helpline"})


def _payload(intent: str, **entities: str) -> str:
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def _numbers(numbers, language: str) -> str:
    """ "1912 or 1800-180-0440", the "or" in the citizen's language (labels.yml)."""
    return label("or", None, language).join(numbers)


def latest_text(tracker: Tracker) -> str:
    """The citizen's own words (not a tap's payload, not a caption-less photo)."""
    return typed_text(tracker) or ""


def asked_agency(tracker: Tracker, city: City) -> Optional[str]:
    entity = next(tracker.get_latest_entity_values("agency"), None)
    if entity in city.agencies:
        return entity
    return find_agency(latest_text(tracker), city)


class ActionOtherAgency(Action):
    """Who handles what the corporation does not (power at home, police, ...), with numbers;
    asks "street light or power at home?" when a message about a light says neither."""

    def name(self) -> str:
        return "action_other_agency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        city = get_city()
        language = language_of(tracker)
        text = latest_text(tracker)
        agency_key = asked_agency(tracker, city)
        if power_kind(text) == "ambiguous" and agency_key in (None, POWER_AGENCY):
            power = city.agencies.get(POWER_AGENCY)
            dispatcher.utter_message(
                response="utter_ask_light_which",
                power_numbers=_numbers(power.numbers if power else ("1912",), language),
                buttons=[
                    {"title": label("light_choice", "street", language),
                     "payload": _payload("complaint_street_light")},
                    {"title": label("light_choice", "home", language),
                     "payload": _payload("other_agency", agency=POWER_AGENCY)},
                ])
            return []
        agency = city.agencies.get(agency_key or "")
        if agency is None:
            lines = [f"• {a.name(language)}: {_numbers(a.numbers, language)}"
                     for a in city.agencies.values()]
            dispatcher.utter_message(response="utter_agency_list", agency_list="\n".join(lines))
            return []
        values = {"agency_name": agency.name(language),
                  "agency_numbers": _numbers(agency.numbers, language),
                  "agency_text": agency.text(language)}
        response = "utter_other_agency_emergency" if agency.key in EMERGENCIES else "utter_other_agency"
        dispatcher.utter_message(response=response, **values)
        if agency.website:
            dispatcher.utter_message(response="utter_agency_website", agency_website=agency.website)
        return []


class ActionMunicipalService(Action):
    """How to get a municipal service (office, documents, website) with a complaint button."""

    def name(self) -> str:
        return "action_municipal_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        city = get_city()
        language = language_of(tracker)
        key = next(tracker.get_latest_entity_values("service"), None)
        if key not in city.services:
            text = latest_text(tracker)
            key = find_service(text, city) or service_of_the_complaint_named(text, city)
        service = city.services.get(key or "")
        if service is None:
            lines = [f"• {s.field('names', language)}" for s in city.services.values()]
            dispatcher.utter_message(response="utter_service_list", service_list="\n".join(lines))
            return []
        dispatcher.utter_message(
            response="utter_municipal_service",
            service_name=service.field("names", language),
            service_office=service.field("office", language),
            service_documents=service.field("documents", language),
            office_hours=city.text("office_hours", language))
        complaint = (f"complaint_{service.complaint}" if service.complaint else "report_complaint")
        dispatcher.utter_message(
            response="utter_municipal_service_online",
            service_website=service.website or "-",
            helpline=city.helpline,
            buttons=[{"title": label("service_complaint", None, language),
                      "payload": _payload(complaint)}])
        return []
