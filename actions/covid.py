"""COVID figures of a district, in the citizen's language (responses in the domain)."""
import asyncio
import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language_of
from civic.city import get_city
from civic.covid import CovidClient, DistrictFigures
from civic.districts import asks_about_district, district_entry, place_in_question

# One client per action-server process, so its cache is shared by every conversation.
COVID_CLIENT = CovidClient()

# Figures from the live source older than this: the source has stopped updating them.
STOPPED_AFTER_DAYS = 7


def district_name(district: str, language: str) -> str:
    """A district as the citizen reads it: its Devanagari name in Hindi, where known."""
    entry = district_entry(district)
    if language == "hi" and entry is not None and entry.hindi:
        return entry.hindi
    return district


def _suggestion_button(district: str, language: str) -> Dict[str, str]:
    entities = json.dumps({"district": district}, ensure_ascii=False, separators=(",", ":"))
    return {"title": district_name(district, language), "payload": f"/covid_cases{entities}"}


def _display_name(figures: DistrictFigures, language: str) -> str:
    return district_name(figures.district, language)


def _utter_figures(dispatcher: CollectingDispatcher, all_figures, language: str) -> None:
    for figures in all_figures:
        values = figures.as_template_vars(language)
        values["district"] = _display_name(figures, language)
        if len(all_figures) > 1 and not (figures.confirmed or figures.recovered or figures.deceased):
            # Mumbai Suburban's row is all zeros: its cases are counted under Mumbai.
            dispatcher.utter_message(response="utter_covid_no_separate_figures", **values)
            continue
        dispatcher.utter_message(response="utter_covid_cases", **values)
        if figures.tested is not None:
            dispatcher.utter_message(response="utter_covid_tested", **values)
        if figures.has_delta:
            dispatcher.utter_message(response="utter_covid_delta", **values)
    # Every answer says how old the figures are, once, and whether the source still updates.
    figures = all_figures[0]
    values = figures.as_template_vars(language)
    if figures.source == "stale":
        dispatcher.utter_message(response="utter_covid_stale", **values)
    elif figures.source == "snapshot" and figures.source_down:
        dispatcher.utter_message(response="utter_covid_source_down", **values)
    elif figures.source == "snapshot":
        dispatcher.utter_message(response="utter_covid_data_age", **values)
    elif figures.age_days is not None and figures.age_days >= STOPPED_AFTER_DAYS:
        dispatcher.utter_message(response="utter_covid_source_stopped", **values)
    else:
        dispatcher.utter_message(response="utter_covid_live_age", **values)


def asked_place(tracker: Tracker, default: str) -> str:
    """The place asked about: the message's district entity, else the place words of the
    message (an unknown "xyzpur" stays "xyzpur", never becomes the default), else the
    district asked before, else `default` (the city's own)."""
    entity: Optional[str] = next(tracker.get_latest_entity_values("district"), None)
    if entity:
        return str(entity)
    place = place_in_question(tracker.latest_message.get("text") or "")
    return place or tracker.get_slot("district") or default


def follows_covid_answer(tracker: Tracker) -> bool:
    """True when the message before the latest one asked for COVID figures (or the bot last
    answered with them): a bare place now ("and Kanpur?", "पटना में?") asks for its figures."""
    seen_latest = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "action" and event.get("name") == "action_covid_cases":
            return True
        if kind == "user":
            if seen_latest:
                return ((event.get("parse_data") or {}).get("intent") or {}).get("name") \
                    == "covid_cases"
            seen_latest = True
    return False


def only_a_district(tracker: Tracker) -> bool:
    """The latest message is a district's name and nothing else ("Lucknow", "पटना")."""
    district = next(tracker.get_latest_entity_values("district"), None)
    text = tracker.latest_message.get("text") or ""
    return bool(district) and not text.startswith("/") and asks_about_district(text, district)


def names_a_place(tracker: Tracker) -> bool:
    """The latest message names a district, or a place-like word that is not a number."""
    if next(tracker.get_latest_entity_values("district"), None):
        return True
    return place_in_question(tracker.latest_message.get("text") or "") is not None


class ActionCovidCases(Action):
    """Figures for the district in the latest message, the `district` slot or the city's own;
    "no figures" and the closest districts when the place is not a known district."""

    def name(self) -> str:
        return "action_covid_cases"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        city = get_city()
        asked = asked_place(tracker, city.district)
        language = language_of(tracker)
        # The client may wait on the network: keep the event loop free for other citizens.
        result = await asyncio.to_thread(COVID_CLIENT.lookup, str(asked), city.state)

        if result.suggestions:
            dispatcher.utter_message(
                response="utter_covid_district_unknown",
                buttons=[_suggestion_button(name, language) for name in result.suggestions],
                district=result.query,
            )
        elif result.figures is None:
            dispatcher.utter_message(
                response="utter_covid_district_not_found",
                district=result.query,
                example_district=district_name(city.district, language),
            )
        else:
            _utter_figures(dispatcher, result.all_figures or (result.figures,), language)
        # Remember the place answered (a group by its own name), forget one that matched nothing.
        district = (result.name or result.figures.district) if result.figures else None
        return [SlotSet("district", district)]
