"""telegram/bot_commands.py: updates in, requests or reasons to ignore out; the allow-list."""

from telegram.bot_commands import Ignored, Request, parse_update, refusal, usage_error


def msg(text, chat=-5, user=7, username="al"):
    return {"update_id": 9, "message": {"chat": {"id": chat}, "from": {"id": user, "username": username}, "text": text}}


def test_malformed_updates_are_ignored_with_a_reason():
    assert parse_update("junk") == Ignored(None, "malformed update (no integer update_id)")
    assert parse_update({"update_id": "9"}).why.startswith("malformed")
    assert parse_update({"update_id": 9}).why == "not a message"
    assert "without a chat id" in parse_update({"update_id": 9, "message": {"chat": {}}}).why
    assert "without a sender id" in parse_update({"update_id": 9, "message": {"chat": {"id": 1}}}).why
    assert "no command" in parse_update(msg("hello")).why
    assert "no command" in parse_update(msg(None)).why


def test_commands_are_parsed_with_bot_names_and_reasons():
    req = parse_update(msg("/Hold@hedge_bot   venue   down  "))
    assert isinstance(req, Request)
    assert (req.command, req.arg, req.operator) == ("hold", "venue down", "telegram:7/@al")
    assert parse_update(msg("/status", username=None)).operator == "telegram:7"
    assert len(parse_update(msg("/hold " + "x" * 1000)).arg) == 300


def test_both_chat_and_user_must_be_allow_listed():
    req = parse_update(msg("/status"))
    assert refusal(req, frozenset({-5}), frozenset({7})) == ""
    assert "chat -5 is not allow-listed" in refusal(req, frozenset(), frozenset({7}))
    assert "user 7 is not allow-listed" in refusal(req, frozenset({-5}), frozenset())
    assert refusal(req, frozenset(), frozenset()) != ""  # empty lists answer nobody


def test_cli_only_and_bad_usage():
    assert "approval token never travels" in usage_error(parse_update(msg("/resume_confirm tok")))
    for cmd in ("/kill now", "/flatten", "/resume"):
        assert "not available over Telegram" in usage_error(parse_update(msg(cmd)))
    assert (
        usage_error(parse_update(msg("/resume_request"))) == "/resume_request needs a reason: /resume_request <reason>"
    )
    assert usage_error(parse_update(msg("/frobnicate"))).startswith("unknown command /frobnicate")
    assert usage_error(parse_update(msg("/hold ok"))) == "" and usage_error(parse_update(msg("/status"))) == ""
