"""Session start: the city facts, and the citizen's language carried over."""
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from civic.city import get_city


def city_slots() -> List[EventType]:
    """The city facts the responses interpolate, from city.yml."""
    city = get_city()
    return [
        SlotSet("city_name_en", city.name["en"]),
        SlotSet("city_name_hi", city.text("name", "hi")),
        SlotSet("ward_count", city.wards),
        SlotSet("helpline", city.helpline),
        SlotSet("covid_helpline", city.helplines.get("covid_national", "1075")),
        *(
            SlotSet(f"{field}_{language}", city.text(field, language))
            for field in ("office_hours", "covid_testing")
            for language in ("hi", "hinglish", "en")
        ),
        *(SlotSet(f"category_list_{language}", city.category_list(language))
          for language in ("hi", "hinglish", "en")),
    ]


# What a new session keeps: the citizen's language, and the ticket they registered last
# (a photo sent the next day is added to it).
CARRIED_SLOTS = ("language", "language_pinned", "last_ticket")


class ActionSessionStart(Action):
    """Start a session with the city facts set, keeping the citizen's CARRIED_SLOTS."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        carried = [
            SlotSet(key, value)
            for key, value in tracker.current_slot_values().items()
            if value is not None and key in CARRIED_SLOTS
        ]
        return [SessionStarted(), *carried, *city_slots(), ActionExecuted("action_listen")]
