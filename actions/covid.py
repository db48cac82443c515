"""COVID figures of a district, in the citizen's language (responses in the domain)."""
import asyncio
import json
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from civic.city import get_city
from civic.covid import CovidClient, DistrictFigures

# One client per action-server process, so its cache is shared by every conversation.
COVID_CLIENT = CovidClient()


def _suggestion_button(district: str) -> Dict[str, str]:
    entities = json.dumps({"district": district}, ensure_ascii=False, separators=(",", ":"))
    return {"title": district, "payload": f"/covid_cases{entities}"}


def _utter_figures(dispatcher: CollectingDispatcher, figures: DistrictFigures,
                   language: str) -> None:
    values = figures.as_template_vars(language)
    dispatcher.utter_message(response="utter_covid_cases", **values)
    if figures.tested is not None:
        dispatcher.utter_message(response="utter_covid_tested", **values)
    if figures.has_delta:
        dispatcher.utter_message(response="utter_covid_delta", **values)
    # Say how old the figures are whenever they are not fresh from the live source.
    if figures.source == "stale":
        dispatcher.utter_message(response="utter_covid_stale", **values)
    elif figures.source == "snapshot" and figures.source_down:
        dispatcher.utter_message(response="utter_covid_source_down", **values)
    elif figures.source == "snapshot":
        dispatcher.utter_message(response="utter_covid_data_age", **values)


class ActionCovidCases(Action):
    """Figures for the district in the latest message, the `district` slot or the city's own;
    suggestions when the district is not known."""

    def name(self) -> str:
        return "action_covid_cases"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        city = get_city()
        asked = (
            next(tracker.get_latest_entity_values("district"), None)
            or tracker.get_slot("district")
            or city.district
        )
        language = tracker.get_slot("language") or "en"
        # The client may wait on the network: keep the event loop free for other citizens.
        result = await asyncio.to_thread(COVID_CLIENT.lookup, str(asked), city.state)

        if result.suggestions:
            dispatcher.utter_message(
                response="utter_covid_district_unknown",
                buttons=[_suggestion_button(name) for name in result.suggestions],
                district=result.query,
            )
        elif result.figures is None:
            dispatcher.utter_message(
                response="utter_covid_district_not_found",
                district=result.query,
                example_district=city.district,
            )
        else:
            _utter_figures(dispatcher, result.figures, language)
        # Remember the district answered, and forget a name that matched nothing.
        district = result.figures.district if result.figures else None
        return [SlotSet("district", district)]
