"""A photo or a location pin that arrives outside a complaint form."""
from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import GuardedAction, language_of, latest_entity, repository, run_storage, typed_text
from actions.complaints import MIN_CAPTION_WORDS, PHOTO_ID, pin_text
from civic.city import get_city
from civic.entities import without_complaint_ids
from civic.tickets import NotTicketOwner, TransitionNotAllowed


class ActionKeepMedia(GuardedAction):
    """A photo for a ticket (its number in the caption, else the ticket this citizen
    registered last, while it is open) is added to it. Otherwise the photo or the pin is kept
    for the complaint the citizen is about to describe, so it is not asked for again."""

    def name(self) -> str:
        return "action_keep_media"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        photo = latest_entity(tracker, "photo_id")
        if photo and PHOTO_ID.match(photo):
            number = latest_entity(tracker, "complaint_id") or tracker.get_slot("last_ticket")
            if number and await self._added(tracker, number, photo):
                dispatcher.utter_message(response="utter_photo_added", ticket_number=number)
                return []
            dispatcher.utter_message(response="utter_media_kept")
            return [SlotSet("photo", photo)]
        latitude, longitude = tracker.get_slot("latitude"), tracker.get_slot("longitude")
        if latitude is not None and longitude is not None:
            metadata = tracker.latest_message.get("metadata") or {}
            dispatcher.utter_message(response="utter_media_kept")
            return [SlotSet("location", pin_text(latitude, longitude, metadata, language_of(tracker)))]
        dispatcher.utter_message(response="utter_media_without_complaint")
        return []

    @staticmethod
    async def _added(tracker: Tracker, number: str, photo: str) -> bool:
        # the caption's words go with the photo ("SRN-000008 this is the water in the bucket")
        caption = without_complaint_ids(typed_text(tracker) or "", get_city().complaint_prefix).strip(" ,.:-")
        try:
            await run_storage(repository.add_from_citizen, number, tracker.sender_id,
                              caption if len(caption.split()) >= MIN_CAPTION_WORDS else None, [photo])
        except (NotTicketOwner, TransitionNotAllowed, LookupError):
            return False  # someone else's, closed or unknown: keep it for a new complaint
        return True
