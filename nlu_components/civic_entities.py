"""Rule-based entities (ward, number, complaint_id, district, agency, service) with canonical
values.

Wraps `civic.entities.extract_entities`; the values in /model/parse are already what the
dialogue stores ("23", "SRN-000145", "Saharanpur"). Nothing is trained: the rules and the
district gazetteer are data of the project, and the prefix and ward count come from the
city configuration (city.yml) unless the pipeline config overrides them:

    - name: nlu_components.civic_entities.CivicEntityExtractor
      complaint_prefix: SRN   # optional, default city.yml
      wards: 70               # optional, default city.yml
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from civic.entities import extract_entities
from civic.knowledge import knowledge_entities

# The intent of a message that is only a number.
ANSWER_INTENT = "inform"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class CivicEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds ward, number, complaint_id and district entities found by rules."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """None means: take the value from the city configuration."""
        return {"complaint_prefix": None, "wards": None}

    def __init__(self, config: Dict[str, Any]) -> None:
        config = {**self.get_default_config(), **config}
        prefix: Optional[str] = config["complaint_prefix"]
        wards: Optional[int] = config["wards"]
        if prefix is None or wards is None:
            from civic.city import get_city  # reads city.yml (or CITY_CONFIG) once

            city = get_city()
            prefix = prefix or city.complaint_prefix
            wards = wards or city.wards
        self.complaint_prefix = str(prefix).upper()
        self.wards = int(wards)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CivicEntityExtractor:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Appends the rule-based entities of each message to its ENTITIES.

        A message that is nothing but a number ("4", "४", "four", "chaar") is an answer to a
        question (a menu choice, a rating, a ward): its intent is `inform`, whatever the
        classifier guessed from so little text.
        """
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            entities = extract_entities(text, self.complaint_prefix, self.wards)
            if not text.startswith("/"):
                entities += knowledge_entities(text, self._city())
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(entities),
                add_to_output=True,
            )
            if any(entity["entity"] == "number" for entity in entities):
                self._answer_intent(message)
        return messages

    @staticmethod
    def _city():
        from civic.city import get_city  # agencies and services: city.yml (or CITY_CONFIG)

        return get_city()

    @staticmethod
    def _answer_intent(message: Message) -> None:
        answer = {INTENT_NAME_KEY: ANSWER_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != ANSWER_INTENT]
        message.set(INTENT, answer, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [answer, *ranking], add_to_output=True)
