"""The control log's hash chain: what the reader applies, what it refuses, and where it carries on."""

from __future__ import annotations

import json
import threading

from execution import control_log
from execution.control_log import GENESIS, ChainPosition, CommandReader


def cmd(name: str = "hold", operator: str = "alice", ts: int = 1, **args: str) -> control_log.Command:
    args = args or ({"reason": "r"} if name in ("hold", "kill", "resume-request") else {})
    return control_log.new_command(name, operator, ts, **args)


def test_appended_commands_chain_and_are_read_once(tmp_path):
    reader = CommandReader(tmp_path)
    first = control_log.append_command(tmp_path, cmd())
    second = control_log.append_command(tmp_path, cmd("flatten"))
    assert first.prev == GENESIS and second.prev == control_log.line_hash(
        control_log.commands_path(tmp_path).read_bytes().splitlines()[0]
    )
    got = reader.poll()
    assert [(e.record["id"], e.problem) for e in got] == [(first.id, ""), (second.id, "")]
    assert reader.poll() == []
    assert reader.position.offset == control_log.commands_path(tmp_path).stat().st_size


def test_a_restarted_reader_continues_from_its_position_and_checks_the_head(tmp_path):
    control_log.append_command(tmp_path, cmd())
    reader = CommandReader(tmp_path)
    reader.poll()
    saved = ChainPosition.from_doc(json.loads(json.dumps(reader.position.to_doc())))
    third = control_log.append_command(tmp_path, cmd("flatten"))
    again = CommandReader(tmp_path, saved)
    assert [e.record["id"] for e in again.poll()] == [third.id]


def test_a_hand_written_line_is_refused_and_the_next_cli_line_applies(tmp_path):
    reader = CommandReader(tmp_path)
    control_log.append_command(tmp_path, cmd())
    with open(control_log.commands_path(tmp_path), "a") as fh:
        fh.write(json.dumps({"id": "x", "ts": 1, "cmd": "kill", "operator": "nobody", "args": {"reason": "r"}}) + "\n")
    after = control_log.append_command(tmp_path, cmd("flatten"))
    got = reader.poll()
    assert [bool(e.problem) for e in got] == [False, True, False]
    assert "does not chain" in got[1].problem and got[2].record["id"] == after.id


def test_truncation_replacement_blank_and_garbage_lines_are_refused(tmp_path):
    path = control_log.commands_path(tmp_path)
    reader = CommandReader(tmp_path)
    for _ in range(3):
        control_log.append_command(tmp_path, cmd())
    reader.poll()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    [e] = reader.poll()
    assert "truncated" in e.problem
    assert reader.poll() == []  # carried on from the log as it is now
    path.write_bytes(b"X" * len(whole) * 2 + b"\n")
    [e] = reader.poll()
    assert "replaced" in e.problem
    with open(path, "ab") as fh:
        fh.write(b"\n\xff\xfe not json\n")
    problems = [e.problem for e in reader.poll()]
    assert problems[0].startswith("blank line") and problems[1] == "unreadable line"
    path.unlink()
    [e] = reader.poll()
    assert "disappeared" in e.problem


def test_a_torn_last_line_waits_and_the_cli_terminates_it(tmp_path):
    path = control_log.commands_path(tmp_path)
    reader = CommandReader(tmp_path)
    control_log.append_command(tmp_path, cmd())
    with open(path, "ab") as fh:
        fh.write(b'{"id": "torn", "cmd"')
    assert [e.problem for e in reader.poll()] == [""]  # the torn line is not read yet
    after = control_log.append_command(tmp_path, cmd("flatten"))
    got = reader.poll()
    assert got[0].problem == "unreadable line" and got[1].record["id"] == after.id and not got[1].problem


def test_at_end_skips_what_is_in_the_log(tmp_path):
    assert ChainPosition.at_end(tmp_path) == ChainPosition()
    control_log.append_command(tmp_path, cmd())
    reader = CommandReader(tmp_path, ChainPosition.at_end(tmp_path))
    assert reader.poll() == []
    later = control_log.append_command(tmp_path, cmd("flatten"))
    assert [e.record["id"] for e in reader.poll()] == [later.id]
    assert ChainPosition.from_doc({"offset": 5, "head": GENESIS, "head_len": 0}) is None  # incoherent


def test_concurrent_clis_never_chain_to_the_same_line(tmp_path):
    threads = [threading.Thread(target=control_log.append_command, args=(tmp_path, cmd())) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = CommandReader(tmp_path).poll()
    assert len(got) == 16 and all(not e.problem for e in got)


def test_the_proof_is_bound_to_command_request_and_operator():
    token = "approve-Zq81-very-secret"
    p = control_log.approval_proof(token, "cmd-2", "cmd-1", "bob")
    assert p == control_log.approval_proof(token, "cmd-2", "cmd-1", " BOB ")  # folded spelling
    assert p != control_log.approval_proof(token, "cmd-3", "cmd-1", "bob")
    assert p != control_log.approval_proof(token, "cmd-2", "cmd-0", "bob")
    assert p != control_log.approval_proof(token, "cmd-2", "cmd-1", "carol")
    assert p != control_log.approval_proof(token + "x", "cmd-2", "cmd-1", "bob")
