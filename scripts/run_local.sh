#!/usr/bin/env bash
# make run: the action server in the background, a chat with the assistant in the terminal.
set -euo pipefail
model=$1; port=$2
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}  # library deprecation notices, not for the chat
export ACTIONS_LOG=${ACTIONS_LOG:-results/action_server.log}
echo "Starting the action server (log: $ACTIONS_LOG) and a chat. Type /stop to end."
exec scripts/with_action_server.sh "$port" .venv/bin/python -m rasa_extensions shell --model "$model" --endpoints endpoints.yml
