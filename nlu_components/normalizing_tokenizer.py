"""A whitespace tokenizer whose token lemmas are one spelling across scripts.

Citizens write the same word as "पानी", "paani" or "pani". This tokenizer keeps token text
and offsets exactly as Rasa's WhitespaceTokenizer does (entities and DIET still see the
original text), and sets each token's lemma to `civic.transliterate.normalize_token`.
CountVectorsFeaturizer reads `token.lemma` when `use_lemma` is on (its default), so word
and char n-grams then see one form for all three spellings.

WhitespaceTokenizer's regex uses the `regex` module, whose \\w includes Devanagari vowel
signs and virama, so Devanagari words stay whole; only the lemma needs adding.

A message's tokens are those of its first `max_chars` characters (default 500): what the
classifier reads of a long message is bounded, as e5's is (e5_featurizer.py), while the
text, its offsets and the entities keep everything the citizen wrote. No training or
held-out example is that long.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from civic.transliterate import normalize_token

_REST_OF_WORD = re.compile(r"\S*")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class ScriptNormalizingTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer with script- and spelling-normalised lemmas."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """WhitespaceTokenizer's, and how much of a message's text is tokenized."""
        return {**WhitespaceTokenizer.get_default_config(), "max_chars": 500}

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Tokenize as WhitespaceTokenizer does, then set each lemma to the normal form."""
        text = message.get(attribute)
        max_chars = self._config["max_chars"]
        if attribute == TEXT and isinstance(text, str) and len(text) > max_chars:
            # the words that start within max_chars, whole; offsets are the text's own
            end = _REST_OF_WORD.match(text, max_chars).end()
            message = Message(data={attribute: text[:end]})
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalize_token(token.text) or token.text
        return tokens
