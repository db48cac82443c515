"""The complaint's summary, asked in the language of the reply being written.

The form asks `confirm` with this action (Rasa's `action_ask_<slot>`), so the words the
actions put into the summary (the category's name from city.yml, the photo line from
labels.yml) are in the current language even when it changed since they were last set:
"English please" or "हिंदी में" at the summary re-asks it all in the new language, never
"विषय: Water leakage" or "फोटो: none" (round 1, 25), and a location pin shared before the
citizen wrote a word is "📍 shared location" in an English summary (round 2, 03).
"""
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GuardedAction, label, language_of
from actions.complaints import NO_PHOTO
from civic.city import LANGUAGES, get_city


def summary_labels(tracker: Tracker, language: str) -> Dict[str, Any]:
    """category_label, photo_label and the pin's words in the place, in `language`."""
    category = get_city().categories.get(tracker.get_slot("category") or "")
    photo = tracker.get_slot("photo")
    location = tracker.get_slot("location")
    for other in LANGUAGES:  # "📍 bheji gayi location (29.96400, 77.54600)"
        if location:
            location = location.replace(label("location", "pin", other), label("location", "pin", language))
    return {
        "category_label": category.name(language) if category else tracker.get_slot("category_label"),
        "photo_label": label("photo", "none" if photo in (None, NO_PHOTO) else "attached", language),
        "location": location,
    }


class ActionAskConfirm(GuardedAction):
    """ "Please check: ... Shall I register the complaint?" with its labels in the reply language."""

    def name(self) -> str:
        return "action_ask_confirm"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_confirm",
                                 **summary_labels(tracker, language_of(tracker)))
        return []
