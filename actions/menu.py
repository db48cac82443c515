"""Numbered menus and the "did you mean" step of the two-stage fallback."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Type, Union

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ActionComplaintStatus
from actions.covid import ActionCovidCases
from actions.ticket_updates import REOPEN_CHOICE, rate_or_reopen
from civic.numbers import parse_menu_choice

INTENT_LABELS: Dict[str, Dict[str, str]] = yaml.safe_load(
    (Path(__file__).with_name("intent_labels.yml")).read_text(encoding="utf-8")
)

# What each numbered choice of a menu response leads to (the menus' texts are in the domain):
# a response to send, an action whose work is done here, or the complaint form to start.
COMPLAINT_FORM = "complaint_form"
MAIN_MENU = [COMPLAINT_FORM, ActionComplaintStatus, "utter_covid_menu", "utter_human_handoff"]
MENUS: Dict[str, List[Union[str, int, Type[Action]]]] = {
    "utter_greet": MAIN_MENU,
    "utter_help": MAIN_MENU,
    "utter_covid_menu": [ActionCovidCases, "utter_covid_symptoms", "utter_covid_prevention",
                         "utter_covid_helpline"],
    # 1-5 stars, 6 = still a problem: handled by rate_or_reopen
    "utter_ticket_resolved": list(range(1, REOPEN_CHOICE + 1)),
}


def last_menu(tracker: Tracker) -> Optional[str]:
    """The menu response the bot sent last, if its last message was a menu."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            action = (event.get("metadata") or {}).get("utter_action")
            return action if action in MENUS else None
    return None


class ActionMenuChoice(Action):
    """Turn "1", "१", "ek" or "one" after a numbered menu into what was chosen."""

    def name(self) -> str:
        return "action_menu_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        menu = last_menu(tracker)
        if menu is None:
            dispatcher.utter_message(response="utter_help")
            return []
        options = MENUS[menu]
        choice = parse_menu_choice(tracker.latest_message.get("text") or "", len(options))
        if choice is None:
            dispatcher.utter_message(response="utter_not_a_menu_choice")
            return []
        chosen = options[choice - 1]
        if menu == "utter_ticket_resolved":
            return await rate_or_reopen(dispatcher, tracker, choice)
        if chosen == COMPLAINT_FORM:
            return [FollowupAction(COMPLAINT_FORM)]
        if isinstance(chosen, str):
            dispatcher.utter_message(response=chosen)
            return []
        # Done here rather than as a follow-up action, so the dialogue stays on its rules.
        return await chosen().run(dispatcher, tracker, domain)


class ActionDefaultAskAffirmation(Action):
    """Ask "Did you mean …?" with the intent named in the citizen's language."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        candidates = [r.get("name") for r in ranking if r.get("name") in INTENT_LABELS]
        if not candidates:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        intent = candidates[0]
        language = tracker.get_slot("language") or "en"
        label = INTENT_LABELS[intent].get(language) or INTENT_LABELS[intent]["en"]
        dispatcher.utter_message(
            response="utter_ask_affirm_intent", intent_label=label, intent_name=intent
        )
        return []
