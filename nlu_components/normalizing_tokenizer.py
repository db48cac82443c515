"""A whitespace tokenizer whose token lemmas are one spelling across scripts.

Citizens write the same word as "पानी", "paani" or "pani". This tokenizer keeps token text
and offsets exactly as Rasa's WhitespaceTokenizer does (entities and DIET still see the
original text), and sets each token's lemma to `civic.transliterate.normalize_token`.
CountVectorsFeaturizer reads `token.lemma` when `use_lemma` is on (its default), so word
and char n-grams then see one form for all three spellings.

WhitespaceTokenizer's regex uses the `regex` module, whose \\w includes Devanagari vowel
signs and virama, so Devanagari words stay whole; only the lemma needs adding.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from civic.transliterate import normalize_token


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class ScriptNormalizingTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer with script- and spelling-normalised lemmas."""

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Tokenize as WhitespaceTokenizer does, then set each lemma to the normal form."""
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalize_token(token.text) or token.text
        return tokens
