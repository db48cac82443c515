"""Custom Rasa NLU graph components (these may import rasa; civic/ may not).

Referenced from config.yml by module path:
`nlu_components.normalizing_tokenizer.ScriptNormalizingTokenizer` and
`nlu_components.civic_entities.CivicEntityExtractor`.
"""
