"""How long a signed-in officer's page takes while many others sign in at once.

    python scripts/bench_officer_logins.py [--logins 40] [--code-root PATH]

Starts `nagar-admin serve` (bcrypt cost 12, as in production) on a new SQLite file, creates
`--logins` + 1 accounts, signs one in, and times its ticket list alone, then while
`--logins` other officers sign in together (correct passwords). `--code-root` runs another
checkout's code (e.g. an older one, to compare). Prints the page times (median and worst)
and how long the sign-ins took. Needs nothing but the virtualenv.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import List, Tuple

PASSWORD = "benchmark password"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> Tuple[int, str]:
        with self.opener.open(self.base_url + path, timeout=120) as response:
            return response.status, response.read().decode("utf-8")

    def sign_in(self, username: str) -> int:
        token = CSRF_RE.search(self.get("/login")[1]).group(1)
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrf_token": token, "next": "/tickets"}).encode()
        with self.opener.open(self.base_url + "/login", data=data, timeout=120) as response:
            return response.status


def create_accounts(code_root: Path, url: str, count: int) -> None:
    """In a child process with the code under test (its own civic package)."""
    script = (
        "import sys\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from civic.db import migrate\n"
        "from civic.officers import OfficerRepository\n"
        f"migrate({url!r})\n"
        "repo = OfficerRepository()\n"
        "names = [f'officer{i}' for i in range(int(sys.argv[1]))]\n"
        "with ThreadPoolExecutor(4) as pool:\n"
        f"    list(pool.map(lambda n: repo.create(n, {PASSWORD!r}, 'officer', 'street_lighting'), names))\n"
    )
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(code_root))
    subprocess.run([sys.executable, "-c", script, str(count)], env=env, cwd=code_root, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base_url + "/health", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the workspace did not start")


def timed_page(browser: Browser) -> float:
    start = time.perf_counter()
    status, _ = browser.get("/tickets")
    assert status == 200, status
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--code-root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    code_root = args.code_root.resolve()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/tickets.db"
        create_accounts(code_root, url, args.logins + 1)
        port = free_port()
        env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(code_root),
                   OFFICER_SECRET_KEY="b" * 48, RASA_URL="http://127.0.0.1:9",
                   OFFICER_LOGIN_ADDRESS_MAX_FAILURES="1000")  # all sign-ins come from here
        server = subprocess.Popen([sys.executable, "-m", "officer.cli", "serve", "--port", str(port)],
                                  env=env, cwd=code_root, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(base_url)
            reader = Browser(base_url)
            assert reader.sign_in(f"officer{args.logins}") == 200
            alone = [timed_page(reader) for _ in range(5)]

            results: List[int] = []
            threads = [threading.Thread(target=lambda i=i: results.append(
                Browser(base_url).sign_in(f"officer{i}"))) for i in range(args.logins)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            during: List[float] = []
            while any(thread.is_alive() for thread in threads):
                during.append(timed_page(reader))
            for thread in threads:
                thread.join()
            storm = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(10)

    print(f"code: {code_root}")
    print(f"page alone:            median {statistics.median(alone) * 1000:7.0f} ms")
    print(f"page during {args.logins} sign-ins: median {statistics.median(during) * 1000:7.0f} ms, "
          f"worst {max(during) * 1000:7.0f} ms ({len(during)} pages)")
    print(f"{args.logins} sign-ins took {storm:.1f} s; answers: "
          f"{ {s: results.count(s) for s in sorted(set(results))} }")
    return 0


if __name__ == "__main__":
    sys.exit(main())
