"""`run` at start: an unreachable Telegram or a malformed token ends with a plain message."""

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"


def run_bot(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={"PATH": "/usr/bin:/bin", **env},
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_network_ends_with_a_plain_message_not_endless_retries(tmp_path):
    started = time.monotonic()
    result = run_bot({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_HASH_SECRET": "s" * 32,
                      "TELEGRAM_BASE_URL": f"http://127.0.0.1:{closed_port()}/bot"})
    assert result.returncode == 1
    assert time.monotonic() - started < 45
    assert "Không kết nối được Telegram" in result.stderr
    assert "kiểm tra mạng hoặc telegram.base_url" in result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_a_malformed_token_is_refused_before_any_request():
    result = run_bot({"TELEGRAM_BOT_TOKEN": "x", "BOT_HASH_SECRET": "s" * 32,
                      "TELEGRAM_BASE_URL": f"http://127.0.0.1:{closed_port()}/bot"})
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN không giống token Telegram" in result.stderr
    assert "Không kết nối" not in result.stderr, "refused before trying the network"
    assert "Traceback" not in result.stderr


def test_fake_servers_token_is_shaped_like_a_real_one():
    sys.path.insert(0, str(ROOT / "tests"))
    from fakebotapi import FakeBotAPI

    from bot.config import TOKEN_SHAPE

    assert TOKEN_SHAPE.fullmatch(FakeBotAPI().token)


def test_a_base_url_that_is_not_a_bot_api_server_gets_a_plain_message():
    """A web server answering 404 with an empty body (a wrong telegram.base_url): no library
    traceback, a sentence that names the address to check."""
    import http.server
    import threading

    class NotTelegram(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotTelegram)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/bot"
    try:
        result = run_bot({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_HASH_SECRET": "s" * 32,
                          "TELEGRAM_BASE_URL": base})
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert f"Máy chủ {base} từ chối token" in result.stderr
    assert "Traceback" not in result.stderr and "JSON" not in result.stderr
