"""telegram/bot_api.py against the loopback Bot API: what Telegram answers and what the sender does."""

from __future__ import annotations

import io
import sys

import pytest

from execution import logs
from telegram.bot_api import MAX_MESSAGE_CHARS, BotApi, split_message, tg_len, truncate_message
from tests.support.fake_telegram import FakeTelegram, parse_html

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"


@pytest.fixture
def tg():
    with FakeTelegram(TOKEN, chat_id="42") as server:
        yield server


def api(url, token=TOKEN, **kw) -> tuple[BotApi, list[float]]:
    waits: list[float] = []
    return BotApi(token, url, timeout_s=kw.pop("timeout_s", 5.0), sleep=waits.append, **kw), waits


def test_sends_html_with_chat_and_parse_mode(tg):
    bot, _ = api(tg.url)
    result = bot.send_message("42", "<b>HEDGE</b>\nA &lt;B&gt; &amp; C")
    assert result.ok and result.sent_parts == 1 and result.message_ids == [1]
    (msg,) = tg.messages
    assert (msg["chat_id"], msg["parse_mode"], msg["visible_text"]) == ("42", "HTML", "HEDGE\nA <B> & C")


def test_429_waits_retry_after_once_then_sends(tg):
    tg.rate_limit_next(retry_after=3)
    bot, waits = api(tg.url)
    result = bot.send_message("42", "hello")
    assert result.ok and waits == [3.0] and len(tg.calls) == 2 and len(tg.messages) == 1


def test_429_twice_gives_up_after_one_wait(tg):
    tg.rate_limit_next(retry_after=1, times=2)
    bot, waits = api(tg.url)
    result = bot.send_message("42", "hello")
    assert not result.ok and waits == [1.0] and len(tg.calls) == 2 and tg.messages == []
    assert result.error_code == 429


def test_429_with_a_long_retry_after_is_refused_without_waiting(tg):
    tg.rate_limit_next(retry_after=3600)
    bot, waits = api(tg.url, max_retry_after_s=30)
    result = bot.send_message("42", "hello")
    assert not result.ok and waits == [] and "retry_after 3600s" in result.errors[0] and len(tg.calls) == 1


def test_unauthorized_and_chat_not_found_name_what_to_fix(tg):
    bad_token = "987654321:AAE_another-token-not-the-bots_0000"
    bot, _ = api(tg.url, token=bad_token)
    result = bot.send_message("42", "hello")
    assert not result.ok and result.error_code == 401 and "Unauthorized (check TELEGRAM_BOT_TOKEN)" in result.errors[0]
    assert bad_token not in repr(result)
    bot, _ = api(tg.url)
    result = bot.send_message("-100999", "hello")
    assert result.error_code == 400 and "chat not found (check TELEGRAM_CHAT_ID" in result.errors[0]


def test_markup_rejected_is_resent_as_plain_text(tg):
    bot, _ = api(tg.url)
    result = bot.send_message("42", "<b>NAV</b> up & <unknown>")
    assert result.ok and result.plain_fallback and len(tg.calls) == 2
    (msg,) = tg.messages
    assert "parse_mode" not in msg and msg["text"] == "NAV up & "


def test_server_errors_and_unreachable_and_timeout_are_results_not_exceptions(tg):
    tg.fail_next(500, "Internal Server Error")
    bot, _ = api(tg.url)
    assert bot.send_message("42", "x").errors == ["HTTP 500 Internal Server Error"]
    down, _ = api("http://127.0.0.1:9")  # nothing listens on the discard port
    result = down.send_message("42", "x")
    assert not result.ok and result.errors[0].startswith("Telegram unreachable (")
    with FakeTelegram(TOKEN, hang_s=3) as slow:
        bot, _ = api(slow.url, timeout_s=0.5)
        result = bot.send_message("42", "x")
        assert result.errors == ["Telegram unreachable (ReadTimeout)"]
        assert len(slow.calls) == 1  # a timed-out send is not sent again (it may have arrived)


def test_over_the_limit_split_or_truncated_and_telegram_accepts_every_part(tg):
    lines = [f"line {i:05d} &amp; <b>x</b> " + "é" * 40 for i in range(400)]
    text = "\n".join(lines)
    assert tg_len(text) > 3 * MAX_MESSAGE_CHARS
    bot, _ = api(tg.url)
    result = bot.send_message("42", text, overflow="split")
    assert result.ok and result.sent_parts == len(tg.messages) > 3
    assert "\n".join(m["text"] for m in tg.messages) == text  # nothing lost, nothing repeated
    tg.messages.clear()
    result = bot.send_message("42", text, overflow="truncate")
    assert result.ok and len(tg.messages) == 1 and tg.messages[0]["text"].endswith("… (truncated)")


def test_cuts_never_break_an_entity_a_tag_or_a_wide_character():
    one_line = ("&amp;" * 1000) + ("<b>bold</b>" * 500) + ("😀" * 3000)
    for parts in (split_message(one_line), [truncate_message(one_line)]):
        for part in parts:
            assert tg_len(part) <= MAX_MESSAGE_CHARS and parse_html(part)[1] == "", part[-20:]
    assert "".join(split_message(one_line)) == one_line


def test_the_token_never_reaches_a_log_or_a_result(tg):
    stream = io.StringIO()
    logs.setup("DEBUG", stream=stream)  # no secrets registered: the sender must redact by itself
    try:
        tg.rate_limit_next(retry_after=1)
        tg.fail_next(400, f"Bad Request: something about bot{TOKEN}")
        bot, _ = api(tg.url)
        result = bot.send_message("42", "hello")
        unreachable = api("http://127.0.0.1:9")[0].send_message("42", "x")
        logs.get().warning("[heartbeat] not sent: %s", "; ".join(result.errors + unreachable.errors))
    finally:
        logs.setup("INFO", stream=sys.stderr)
    out = stream.getvalue()
    assert "rate limited (429)" in out and "bot***" in out
    assert TOKEN.split(":")[1] not in out and TOKEN.split(":")[1] not in repr(result) + repr(unreachable)
