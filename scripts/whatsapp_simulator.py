"""Chat with the bot as a WhatsApp citizen would, without WhatsApp or Meta.

Starts a fake Graph API on 127.0.0.1 that records what the bot sends and prints it
(buttons and lists numbered), and sends what you type to Rasa as signed webhook posts.

Run Rasa with its Graph API pointed at the simulator and the same secret, then the
simulator (values below are the simulator's defaults)::

    export WHATSAPP_VERIFY_TOKEN=simulator WHATSAPP_APP_SECRET=simulator-secret \\
           WHATSAPP_ACCESS_TOKEN=simulator WHATSAPP_PHONE_NUMBER_ID=100000000000001 \\
           WHATSAPP_API_BASE_URL=http://127.0.0.1:8765/v21.0
    rasa run --credentials credentials.yml --endpoints endpoints.yml &
    python scripts/whatsapp_simulator.py

or let the simulator start ``rasa run`` itself with those variables (the action server
must be running already)::

    python scripts/whatsapp_simulator.py --start-rasa [--model models/x.tar.gz]

In the chat:
    any text             a text message (Hindi, Hinglish, English, emoji)
    /tap N               tap button or list row N of the bot's last menu
    /location LAT LON    share a location pin, e.g. /location 29.9680 77.5510
    /image [caption]     send a photo (a fake media id) with an optional caption
    /voice               send a voice note (the bot should ask for text)
    /again               deliver the last message once more (tests deduplication)
    /help, /quit

Options: --rasa-url (default http://localhost:5005/webhooks/whatsapp/webhook),
--graph-port (8765), --app-secret, --phone-number-id, --wa-id, --name, --pause
(seconds to wait for replies after each line when input is piped; default 2),
--start-rasa with --credentials, --endpoints, --model (Rasa listens on the port of --rasa-url).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.fake_graph import (  # noqa: E402 - after the path set-up above
    FakeGraphAPI,
    encode,
    inbound_message,
    signed_headers,
    webhook_payload,
)

DEFAULT_SECRET = "simulator-secret"
DEFAULT_PHONE_NUMBER_ID = "100000000000001"
HELP = __doc__.split("In the chat:")[1].split("Options:")[0]


class Simulator:
    """Turns typed lines into webhook messages and the bot's messages into text."""

    def __init__(self, wa_id: str) -> None:
        self.wa_id = wa_id
        self.choices: List[Tuple[str, str, str]] = []  # (kind, id, title) of the last menu
        self.last_message: Optional[Dict[str, Any]] = None

    def message_for(self, line: str) -> Optional[Dict[str, Any]]:
        """The WhatsApp message a typed line stands for; None for a bad command."""
        words = line.split()
        command = words[0].lower() if words else ""
        if command == "/tap":
            return self._tap(words[1:])
        if command == "/location":
            try:
                latitude, longitude = float(words[1]), float(words[2])
            except (IndexError, ValueError):
                return None
            location = {"latitude": latitude, "longitude": longitude}
            if len(words) > 3:
                location["name"] = " ".join(words[3:])
            return inbound_message(self.wa_id, "location", location)
        if command == "/image":
            image = {"id": str(uuid.uuid4().int)[:16], "mime_type": "image/jpeg", "sha256": "sim"}
            caption = line.strip()[len("/image") :].strip()
            if caption:
                image["caption"] = caption
            return inbound_message(self.wa_id, "image", image)
        if command == "/voice":
            return inbound_message(
                self.wa_id, "audio", {"id": "9" * 15, "mime_type": "audio/ogg", "voice": True}
            )
        return inbound_message(self.wa_id, "text", {"body": line})

    def _tap(self, args: List[str]) -> Optional[Dict[str, Any]]:
        try:
            kind, choice_id, title = self.choices[int(args[0]) - 1]
        except (IndexError, ValueError):
            return None
        if kind == "button":
            reply = {"type": "button_reply", "button_reply": {"id": choice_id, "title": title}}
        else:
            reply = {"type": "list_reply", "list_reply": {"id": choice_id, "title": title}}
        return inbound_message(self.wa_id, "interactive", reply)

    def render(self, payload: Dict[str, Any]) -> str:
        """What the citizen would see for one outbound message."""
        kind = payload.get("type")
        if kind == "text":
            return payload["text"].get("body", "")
        if kind == "interactive":
            return self._render_interactive(payload["interactive"])
        if kind == "template":
            template = payload["template"]
            params = [
                p.get("text", p) for c in template.get("components", []) for p in c.get("parameters", [])
            ]
            language = template.get("language", {}).get("code")
            return f"[template {template.get('name')} ({language})] {params}"
        if kind == "image":
            return f"[image] {payload['image'].get('link') or payload['image'].get('id')}"
        return json.dumps(payload, ensure_ascii=False)

    def _render_interactive(self, interactive: Dict[str, Any]) -> str:
        body = interactive.get("body", {}).get("text", "")
        kind = interactive.get("type")
        lines = [body]
        if kind == "button":
            self.choices = [
                ("button", b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]
            ]
            lines += [f"  [{n}] {title}" for n, (_, _, title) in enumerate(self.choices, 1)]
            lines.append("  (/tap N)")
        elif kind == "list":
            rows = [row for s in interactive["action"]["sections"] for row in s["rows"]]
            self.choices = [("list", row["id"], row["title"]) for row in rows]
            lines.append(f"  ☰ {interactive['action'].get('button')}")
            for n, row in enumerate(rows, 1):
                description = f" — {row['description']}" if row.get("description") else ""
                lines.append(f"  [{n}] {row['title']}{description}")
            lines.append("  (/tap N)")
        elif kind == "location_request_message":
            lines.append("  📍 (/location LAT LON)")
        return "\n".join(lines)


async def read_line(prompt: str) -> Optional[str]:
    try:
        return await asyncio.get_running_loop().run_in_executor(None, input, prompt)
    except EOFError:
        return None


async def chat(args: argparse.Namespace) -> None:
    simulator = Simulator(args.wa_id)

    def show(payload: Dict[str, Any]) -> None:
        print("\nbot> " + simulator.render(payload).replace("\n", "\n     "), flush=True)

    graph = FakeGraphAPI(port=args.graph_port, on_message=show)
    await graph.start()
    print(f"Fake Graph API on {graph.base_url}; posting to {args.rasa_url}")
    print(HELP)
    interactive_input = sys.stdin.isatty()
    async with aiohttp.ClientSession() as session:
        while True:
            line = await read_line("you> " if interactive_input else "")
            if line is None or line.strip() in ("/quit", "/exit"):
                break
            if not line.strip():
                continue
            if line.strip() == "/help":
                print(HELP)
                continue
            if line.strip() == "/again":
                message = simulator.last_message
            else:
                message = simulator.message_for(line.strip())
            if message is None:
                print("?? see /help")
                continue
            simulator.last_message = message
            body = encode(webhook_payload([message], args.phone_number_id, profile_name=args.name))
            try:
                async with session.post(
                    args.rasa_url, data=body, headers=signed_headers(body, args.app_secret)
                ) as resp:
                    if resp.status != 200:
                        print(f"!! webhook answered {resp.status}: {await resp.text()}")
            except aiohttp.ClientError as error:
                print(f"!! Rasa not reachable at {args.rasa_url}: {error}")
            if not interactive_input:
                await asyncio.sleep(args.pause)
    await graph.stop()


def start_rasa(args: argparse.Namespace) -> subprocess.Popen:
    """Start ``rasa run`` wired to this simulator."""
    env = dict(os.environ)
    env.update(
        WHATSAPP_VERIFY_TOKEN=env.get("WHATSAPP_VERIFY_TOKEN") or "simulator",
        WHATSAPP_APP_SECRET=args.app_secret,
        WHATSAPP_ACCESS_TOKEN=env.get("WHATSAPP_ACCESS_TOKEN") or "simulator",
        WHATSAPP_PHONE_NUMBER_ID=args.phone_number_id,
        WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{args.graph_port}/v21.0",
    )
    # The HTTP API on loopback, so that the officers' tools (`nagar-admin update`, the
    # workspace) can tell the simulated citizen about their complaint (RASA_URL, RASA_TOKEN).
    token = env.get("RASA_TOKEN") or "simulator"
    port = urlparse(args.rasa_url).port or 5005  # Rasa listens where --rasa-url points
    print(f"officers' tools: export RASA_URL=http://localhost:{port} RASA_TOKEN={token}", flush=True)
    command = [sys.executable, "-m", "rasa_extensions", "run", "--credentials", args.credentials,
               "--enable-api", "--auth-token", token, "--interface", "127.0.0.1", "--port", str(port)]
    if Path(args.endpoints).exists():
        command += ["--endpoints", args.endpoints]
    if args.model:
        command += ["--model", args.model]
    return subprocess.Popen(command, env=env)


async def wait_for_rasa(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    health = url.rsplit("/webhook", 1)[0] + "/"
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                raise SystemExit("rasa run exited; see its output above")
            try:
                async with session.get(health) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
    raise SystemExit(f"Rasa did not answer on {health} within {timeout:.0f}s")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="WhatsApp chat simulator for the Rasa bot.")
    parser.add_argument("--rasa-url", default="http://localhost:5005/webhooks/whatsapp/webhook")
    parser.add_argument("--graph-port", type=int, default=8765)
    parser.add_argument("--app-secret", default=os.environ.get("WHATSAPP_APP_SECRET") or DEFAULT_SECRET)
    parser.add_argument(
        "--phone-number-id",
        default=os.environ.get("WHATSAPP_PHONE_NUMBER_ID") or DEFAULT_PHONE_NUMBER_ID,
    )
    parser.add_argument("--wa-id", default="919876543210")
    parser.add_argument("--name", default="Simulated Citizen")
    parser.add_argument("--pause", type=float, default=2.0)
    parser.add_argument("--start-rasa", action="store_true")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--model", default=None, help="model for --start-rasa")
    return parser.parse_args(argv)


async def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    rasa = None
    if args.start_rasa:
        rasa = start_rasa(args)
    try:
        if rasa is not None:
            # the fake Graph API must be up before Rasa sends anything; Rasa only
            # sends in reply to us, so waiting for its health route first is fine
            print("Starting Rasa …")
            await wait_for_rasa(args.rasa_url, rasa)
        await chat(args)
    finally:
        if rasa is not None:
            rasa.terminate()
            rasa.wait(30)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
