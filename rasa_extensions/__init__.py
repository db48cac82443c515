"""Extensions loaded by the Rasa server process (not the action server): configured by module
path in endpoints.yml."""
