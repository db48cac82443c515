"""Numbered menus and the "did you mean" step of the two-stage fallback."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Type, Union

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import in_language, label, language_of, rating_asked_lately, typed_text
from actions.complaints import ActionComplaintStatus, category_menu, says_where, where_said
from actions.covid import ActionCovidCases, follows_covid_answer, names_a_place, only_a_district
from actions.ticket_updates import REOPEN_CHOICE, rate_or_reopen
from civic.city import get_city
from civic.corrections import rating_given
from civic.numbers import parse_menu_choice

INTENT_LABELS: Dict[str, Dict[str, str]] = yaml.safe_load(
    (Path(__file__).with_name("intent_labels.yml")).read_text(encoding="utf-8")
)
# The runner-up is offered beside the best guess when its confidence is at least this share
# of the best guess's.
SECOND_GUESS_SHARE = 0.5
# The fallback's "did you mean ...?" questions, asked again when the answer says where instead.
FALLBACK_QUESTIONS = frozenset({"utter_ask_which_intent", "utter_ask_affirm_intent", "utter_ask_category_choice"})

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


def intent_label(intent: Optional[str], language: str) -> Optional[str]:
    """What the bot calls an intent when it asks; None for intents it never offers."""
    category = get_city().categories.get((intent or "").replace("complaint_", "", 1))
    if intent and intent.startswith("complaint_") and category:
        return category.name(language)
    names = INTENT_LABELS.get(intent or "")
    return in_language(names, language) if names else None


def last_menu(tracker: Tracker) -> Optional[str]:
    """The menu response the bot sent last, if its last message was a menu."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            action = (event.get("metadata") or {}).get("utter_action")
            return action if action in MENUS else None
    return None


def last_bot_message(tracker: Tracker) -> Optional[Dict[str, Any]]:
    return next((e for e in reversed(tracker.events) if e.get("event") == "bot"), None)


def ask_again(dispatcher: CollectingDispatcher, asked: Dict[str, Any], language: str) -> None:
    """The fallback's question once more, with the choices it offered."""
    response = asked["metadata"]["utter_action"]
    buttons = (asked.get("data") or {}).get("buttons") or []
    payloads = [b.get("payload") or "" for b in buttons]
    if response == "utter_ask_category_choice":
        keys = [p.replace("/complaint_", "", 1) for p in payloads if p.startswith("/complaint_")]
        dispatcher.utter_message(response=response, **category_menu(keys, language))
    elif response == "utter_ask_which_intent" and len(buttons) >= 2:
        dispatcher.utter_message(response=response, buttons=buttons, first_label=buttons[0].get("title"),
                                 second_label=buttons[1].get("title"))
    elif response == "utter_ask_affirm_intent" and payloads:
        intent = payloads[0].lstrip("/")
        dispatcher.utter_message(response=response, intent_name=intent,  # (its buttons are the response's)
                                 intent_label=intent_label(intent, language))


class ActionMenuChoice(Action):
    """Turn "1", "१", "ek" or "one" after a numbered menu into what was chosen."""

    def name(self) -> str:
        return "action_menu_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        menu = last_menu(tracker)
        # "aur Meerut me?" right after COVID figures: the topic goes on; a district's name
        # alone ("Lucknow") outside a form asks for its figures (what districts are for here).
        if menu is None and ((follows_covid_answer(tracker) and names_a_place(tracker))
                             or only_a_district(tracker)):
            return await ActionCovidCases().run(dispatcher, tracker, domain)
        text = typed_text(tracker)
        rating = rating_given(text or "") if tracker.get_slot("rating_ticket") else None
        if rating and menu in (None, "utter_ticket_resolved"):
            # "thanks, 5 stars", "i'd give it 4/5" for the ticket just resolved (round 4, 12)
            return await rate_or_reopen(dispatcher, tracker, rating)
        choice = parse_menu_choice(text or "", REOPEN_CHOICE) \
            if tracker.get_slot("rating_ticket") and rating_asked_lately(tracker) else None
        if menu is None and choice:
            # "५" a message after the rating question (a "धन्यवाद" between): still its answer (round 4, 18)
            return await rate_or_reopen(dispatcher, tracker, choice)
        if menu is None:
            asked = last_bot_message(tracker)
            if asked and (asked.get("metadata") or {}).get("utter_action") in FALLBACK_QUESTIONS \
                    and says_where(text):
                # "Did you mean: Sewer or Sanitation?" - "I don't know the ward, I live near Ghanta
                # Ghar": the place is kept for the complaint, and the question asked again
                ask_again(dispatcher, asked, language_of(tracker))
                return [SlotSet(slot, value) for slot, value in where_said(text or "").items()]
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
    """Ask "Did you mean …?" in the citizen's language: with the two likeliest meanings as
    buttons when two are close ("water that does not come, or water that leaks?")."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        language = language_of(tracker)
        choices = get_city().categories_for_short_message(typed_text(tracker) or "")
        if choices:  # "paani": water that does not come, or water that leaks?
            dispatcher.utter_message(response="utter_ask_category_choice", **category_menu(choices, language))
            return []
        ranking = tracker.latest_message.get("intent_ranking") or []
        candidates = [r for r in ranking if intent_label(r.get("name"), "en")]
        if not candidates:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        first = candidates[0]
        second = candidates[1] if len(candidates) > 1 else None
        if second and second.get("confidence", 0) >= SECOND_GUESS_SHARE * first.get("confidence", 0):
            dispatcher.utter_message(
                response="utter_ask_which_intent",
                buttons=[{"title": intent_label(c["name"], language), "payload": f"/{c['name']}"}
                         for c in (first, second)]
                + [{"title": label("something_else", None, language), "payload": "/out_of_scope"}],
                first_label=intent_label(first["name"], language),
                second_label=intent_label(second["name"], language))
            return []
        dispatcher.utter_message(
            response="utter_ask_affirm_intent", intent_name=first["name"],
            intent_label=intent_label(first["name"], language))
        return []
