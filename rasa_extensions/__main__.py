"""Rasa's command line with Nagar Sahayak's speed-ups applied (rasa_extensions.speedups).

    python -m rasa_extensions run --model models/nagar-sahayak.tar.gz --endpoints endpoints.yml

Every `rasa` command works the same way; plain `rasa` also works, only slower per message.
"""
from rasa_extensions import speedups


def main() -> None:
    speedups.apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
