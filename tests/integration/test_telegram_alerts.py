"""Ops alerts reach the loopback Bot API from a background thread; the caller never waits."""

import threading

from telegram.alerts import AlertSender, from_env
from telegram.bot_api import BotApi
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"


def test_alerts_are_sent_in_order_as_plain_text():
    with FakeTelegram(TOKEN, chat_id="7") as tg:
        sender = AlertSender(BotApi(TOKEN, tg.url), "7")
        for i in range(3):
            sender.send(f"[prod] BREAKER drawdown <{i}> & HOLD")
        sender.close()
    assert [m["text"] for m in tg.messages] == [f"[prod] BREAKER drawdown <{i}> & HOLD" for i in range(3)]
    assert all("parse_mode" not in m for m in tg.messages) and sender.sent == 3


def test_send_never_blocks_even_when_telegram_hangs():
    with FakeTelegram(TOKEN, chat_id="7") as tg:
        tg.hold()  # Telegram receives the first alert and does not answer
        sender = AlertSender(BotApi(TOKEN, tg.url, timeout_s=30.0), "7", max_queue=5)
        caller = threading.Thread(target=lambda: [sender.send(f"alert {i}") for i in range(50)])
        caller.start()
        caller.join(30)
        assert not caller.is_alive()  # 50 sends returned while the first request hangs
        assert sender.sent == 0 and sender.dropped >= 44  # bounded queue: the excess is dropped, not buffered
        tg.release()
        sender.close(timeout_s=30)
    assert sender.sent + sender.dropped == 50 and sender.sent >= 1
    sent = [int(m["text"].split()[1]) for m in tg.messages]
    assert len(sent) == sender.sent and sent[0] == 0 and sent == sorted(set(sent))  # in the order they were given


def test_errors_are_dropped_and_the_thread_lives_on():
    with FakeTelegram(TOKEN, chat_id="7") as tg:
        tg.fail_next(401, "Unauthorized")
        sender = AlertSender(BotApi(TOKEN, tg.url), "7")
        sender.send("first: refused")
        sender.send("second: delivered")
        sender.close()
    assert [m["text"] for m in tg.messages] == ["second: delivered"]
    assert (sender.sent, sender.dropped) == (1, 1)


def test_from_env_needs_a_wellformed_token_and_a_chat():
    assert from_env({}) is None
    assert from_env({"TELEGRAM_BOT_TOKEN": TOKEN}) is None
    assert from_env({"TELEGRAM_BOT_TOKEN": "not a token", "TELEGRAM_CHAT_ID": "7"}) is None
    with FakeTelegram(TOKEN, chat_id="7") as tg:
        sender = from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "7", "TELEGRAM_API_BASE": tg.url})
        assert isinstance(sender, AlertSender)
        sender.send("hello")
        sender.close()
    assert [m["text"] for m in tg.messages] == ["hello"]
