"""Keeps the `language` slot (the reply language) inside the Rasa server, with no remote call.

The responses in `domain/` are conditioned on `language`. After every citizen message
this policy sets it:

- "English please" / "हिंदी में बोलो" (intent `switch_language`): the language asked for,
  and `language_pinned`, so that it sticks;
- otherwise, unless pinned, the language the latest message is written in
  (`civic.language.detect_language`); a message without one (a number, an emoji, a
  complaint number) keeps the current language, and so does a message without the
  citizen's own words (a tapped button or list row, a payload, a location, a voice note:
  `civic.language.citizen_words`).

A policy can do this because Rasa applies the `events` of every policy's prediction,
whether or not that policy's action wins (`DefaultPolicyPredictionEnsemble`): the slot is
set before the first action after the message runs, so that action already answers in
the new language. The policy itself never predicts an action (all probabilities 0).

It replaced a custom slot mapping run by the action server (`action_detect_language`),
which cost one action-server call per message, carrying the whole conversation
(docs/benchmarks.md).

    policies:
      - name: rasa_extensions.language_policy.LanguagePolicy
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, EXTERNAL_MESSAGE_PREFIX
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from civic.language import citizen_words, reply_language

LANGUAGE_SLOT = "language"
PINNED_SLOT = "language_pinned"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class LanguagePolicy(Policy):
    """Sets `language` / `language_pinned` after each citizen message; predicts nothing."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The lowest priority: it never competes with the policies that choose actions."""
        return {"priority": 0}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain,
              **kwargs: Any) -> Resource:
        """Nothing to learn; an empty resource keeps Rasa's model packaging uniform."""
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LanguagePolicy:
        """No state to read back."""
        return cls(config, model_storage, resource, execution_context)

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        """No action; the slot events for the first prediction after a citizen message."""
        return self._prediction(self._default_predictions(domain),
                                events=self._language_events(tracker))

    @staticmethod
    def _language_events(tracker: DialogueStateTracker) -> List[SlotSet]:
        # Only right after the citizen spoke: later predictions in the same turn must not
        # undo what an action set (a ticket update switches to the ticket's language).
        if tracker.latest_action_name != ACTION_LISTEN_NAME or not tracker.latest_message:
            return []
        message = tracker.latest_message
        if (message.text or "").startswith(EXTERNAL_MESSAGE_PREFIX):
            return []  # an event from the officers' side (trigger_intent), not the citizen
        # Only words the citizen wrote: a tapped button's payload ("/deny"), a location or
        # a voice note keeps the language the conversation is in.
        words = citizen_words(message.text or "", (message.metadata or {}).get("type"))
        if words is None:
            return []
        changes = reply_language(
            words,
            (message.intent or {}).get("name"),
            current=tracker.get_slot(LANGUAGE_SLOT),
            pinned=bool(tracker.get_slot(PINNED_SLOT)),
        )
        return [SlotSet(name, value) for name, value in changes.items()]
