#!/usr/bin/env bash
# Find a Python that Rasa 3.6 runs on (3.8-3.10). With --print, print its path.
# Without a suitable Python, say what to do and fail.
set -euo pipefail
for candidate in python3.10 python3 python3.9 python3.8; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' 2>/dev/null \
     && "$path" -c 'import venv' 2>/dev/null; then
    [ "${1:-}" = "--print" ] && echo "$path"
    exit 0
  fi
done
cat >&2 <<'MSG'
Nagar Sahayak needs Python 3.10 (Rasa 3.6 runs on Python 3.8-3.10) with the venv module.
  - with pyenv:   pyenv install 3.10.13   (the repository's .python-version then selects it)
  - on Debian/Ubuntu: sudo apt-get install python3.10 python3.10-venv
Then run the make command again.
MSG
exit 1
