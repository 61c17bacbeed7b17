"""Ops alerts reach the loopback Bot API from a background thread; the caller never waits."""
import threading

from telegram.alerts import AlertSender
from telegram.bot_api import BotApi
from tests.support.fake_telegram import FakeTelegram
from tests.support.http_server import LoopbackServer

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"


def test_alerts_are_sent_escaped_and_in_order():
    with FakeTelegram(TOKEN) as tg:
        sender = AlertSender(BotApi(TOKEN, tg.url), "7")
        for i in range(3):
            sender.send(f"BREAKER drawdown <{i}> & HOLD")
        sender.close()
    assert [m["text"] for m in tg.messages] == [f"BREAKER drawdown &lt;{i}&gt; &amp; HOLD" for i in range(3)]
    assert sender.sent == 3


def test_send_never_blocks_even_when_telegram_hangs():
    release = threading.Event()
    seen = threading.Event()

    def hang(query, body, headers):
        seen.set()
        release.wait(30)  # Telegram does not answer until the test says so
        return 200, {"ok": True, "result": {}}, {}

    with LoopbackServer({("POST", f"/bot{TOKEN}/sendMessage"): hang}) as srv:
        sender = AlertSender(BotApi(TOKEN, srv.url, timeout_s=30.0), "7", max_queue=5)
        for i in range(50):
            sender.send(f"alert {i}")  # each returns while the first request is still hanging
        assert seen.wait(10) and not release.is_set()
        assert sender.dropped >= 40  # bounded queue: the excess is dropped, not buffered forever
        release.set()
        sender.close()
    assert sender.sent >= 1
