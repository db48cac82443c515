"""LanguagePolicy: the reply language is set in the Rasa process after each citizen message."""
import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from civic.language import reply_language
from rasa_extensions.language_policy import LanguagePolicy


@pytest.fixture
def policy(storage, context) -> LanguagePolicy:
    """Trained and loaded back the way `rasa train` / `rasa run` do."""
    resource = Resource("language_policy")
    trained = LanguagePolicy.create(LanguagePolicy.get_default_config(), storage, resource, context)
    trained.train([], Domain.empty())
    return LanguagePolicy.load(LanguagePolicy.get_default_config(), storage, resource, context)


def after_message(domain, text, intent, slots=None, then=()):
    events = [ActionExecuted("action_listen")]
    events += [SlotSet(name, value) for name, value in (slots or {}).items()]
    events += [UserUttered(text, {"name": intent, "confidence": 0.9}), *then]
    return DialogueStateTracker.from_events("citizen", events, domain.slots)


def slot_changes(policy, domain, tracker):
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert not any(prediction.probabilities), "the policy must never choose an action"
    return {event.key: event.value for event in prediction.events}


@pytest.mark.parametrize("text, intent, slots, expected", [
    ("पानी नहीं आ रहा", "complaint_drinking_water", {"language": "en"}, {"language": "hi"}),
    ("paani nahi aa raha", "complaint_drinking_water", {"language": "hi"},
     {"language": "hinglish"}),
    ("street light not working", "complaint_street_light", {}, {"language": "en"}),
    ("23", "inform", {"language": "hi"}, {}),                  # a number keeps the language
    ("👍", "affirm", {"language": "hinglish"}, {}),             # so does an emoji
    ("पानी नहीं आ रहा", "complaint_drinking_water", {"language": "hi"}, {}),  # unchanged
    ("English please", "switch_language", {"language": "hi"},
     {"language": "en", "language_pinned": True}),
    ("हिंदी में बात करो", "switch_language", {"language": "en"},
     {"language": "hi", "language_pinned": True}),
    ("पानी नहीं आ रहा", "complaint_drinking_water", {"language": "en", "language_pinned": True},
     {}),                                                       # a choice sticks
    ("hindi me bolo", "switch_language", {"language": "en", "language_pinned": True},
     {"language": "hi", "language_pinned": True}),            # ... until the next choice
])
def test_language_after_a_message(policy, domain, text, intent, slots, expected):
    assert slot_changes(policy, domain, after_message(domain, text, intent, slots)) == expected
    assert reply_language(text, intent, slots.get("language"),
                          bool(slots.get("language_pinned"))) == expected


@pytest.mark.parametrize("text, message_type", [
    ("/deny", "interactive"),                                   # "फोटो नहीं है" tapped
    ("/affirm", None),                                          # a REST / shell button
    ("/complaint_street_light", "interactive"),                 # a list row
    ("Street light", "interactive"),                            # a tap without an id: its title
    ('/share_location{"latitude": 29.96, "longitude": 77.55}', "location"),
    ('/share_photo{"photo_id": "123"}', "image"),
    ("/unsupported_message", "audio"),                          # a voice note
    ("Yes, register", "button"),                                # a template's quick reply
])
def test_taps_payloads_and_media_keep_the_citizens_language(policy, domain, text, message_type):
    events = [ActionExecuted("action_listen"), SlotSet("language", "hi"),
              UserUttered(text, {"name": "deny", "confidence": 1.0},
                          metadata={"type": message_type} if message_type else None)]
    tracker = DialogueStateTracker.from_events("citizen", events, domain.slots)
    assert slot_changes(policy, domain, tracker) == {}


def test_a_photos_caption_is_the_citizens_words(policy, domain):
    events = [ActionExecuted("action_listen"), SlotSet("language", "hi"),
              UserUttered("the lamp post is broken here", {"name": "complaint_street_light", "confidence": 0.9},
                          metadata={"type": "image", "photo_id": "123"})]
    tracker = DialogueStateTracker.from_events("citizen", events, domain.slots)
    assert slot_changes(policy, domain, tracker) == {"language": "en"}


def test_later_predictions_in_the_same_turn_leave_the_language_alone(policy, domain):
    # e.g. a ticket update switched the language to the ticket's after the message
    tracker = after_message(domain, "hello", "greet", {"language": "hi"},
                            then=[ActionExecuted("utter_greet"), BotUttered("…")])
    assert slot_changes(policy, domain, tracker) == {}


def test_an_external_event_is_not_a_citizen_message(policy, domain):
    events = [ActionExecuted("action_listen"), SlotSet("language", "hi"),
              UserUttered.create_external("EXTERNAL_ticket_update", [])]
    tracker = DialogueStateTracker.from_events("citizen", events, domain.slots)
    assert tracker.latest_message.text.startswith("EXTERNAL: ")
    assert slot_changes(policy, domain, tracker) == {}


def test_rasa_applies_the_events_although_another_policy_wins(policy, domain, context):
    tracker = after_message(domain, "पानी नहीं आ रहा", "complaint_drinking_water",
                            {"language": "en"})
    winner = PolicyPrediction([0.0] * domain.num_actions, "RulePolicy", policy_priority=6)
    winner.probabilities[domain.index_for_action("complaint_form")] = 1.0
    ours = policy.predict_action_probabilities(tracker, domain)
    ensemble = DefaultPolicyPredictionEnsemble.create(
        {}, policy._model_storage, Resource("ensemble"), context)
    best = ensemble.combine_predictions_from_kwargs(tracker, domain, policy0=winner, policy1=ours)
    assert best.policy_name == "RulePolicy"
    assert [(e.key, e.value) for e in best.events if isinstance(e, SlotSet)] == [("language", "hi")]
