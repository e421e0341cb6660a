"""The ``altabots-async`` command line, run in-process (``main(argv)``) and as a process.

Each test serves its own simulator on loopback when it needs to read the server's log; the
API key is a canary that must never appear in anything the CLI prints.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from altabots_async.__main__ import main
from altabots_async._secret import fingerprint
from altabots_async.testing import Faults, Plan, Simulator, serve_in_thread

pytest.importorskip("uvicorn")

CANARY = "sk-canary-7f3e9d1c0b2a4e6f"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean environment with the canary key and no base URL."""
    monkeypatch.setenv("ALTABOTS_API_KEY", CANARY)
    monkeypatch.delenv("ALTABOTS_BASE_URL", raising=False)
    return monkeypatch


@pytest.fixture
def sim() -> Simulator:
    return Simulator({CANARY: Plan.PROFESSIONAL})


@pytest.fixture
def served(sim: Simulator, env: pytest.MonkeyPatch) -> Iterator[str]:
    """The simulator on loopback, and ALTABOTS_BASE_URL pointing at it."""
    with serve_in_thread(sim) as url:
        env.setenv("ALTABOTS_BASE_URL", url)
        yield url


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr), checking the canary."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert CANARY not in out
    assert CANARY not in err
    return code, out, err


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- agent, quota, chat


def test_agent_against_the_embedded_simulator(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--simulator`` serves its own simulator; the key shows only as a fingerprint."""
    code, out, _ = run_cli(capsys, "agent", "--simulator")

    assert code == 0
    assert "Simulated Support Agent" in out
    assert f"fingerprint {fingerprint(CANARY)}" in out


def test_agent_json_and_the_option_before_the_command(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "--simulator", "agent", "--json")

    assert code == 0
    assert json.loads(out)["name"] == "Simulated Support Agent"
    assert not {"raw", "decode_errors"} & set(json.loads(out))  # the model's own bookkeeping


def test_quota_reads_the_headers_of_one_call(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "quota", "--json")

    data = json.loads(out)
    assert code == 0
    assert (data["limit"], data["remaining"]) == (1000, 999)
    assert data["reset_at"] > time.time()
    assert len(sim.requests()) == 1


def test_quota_text(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "quota")

    assert code == 0
    assert "limit      1,000 per window" in out
    assert "remaining  999" in out


def test_chat_streams_replies_to_lines_from_stdin(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("hello there\n\nhow are you\n"))

    code, out, _ = run_cli(capsys, "chat")

    assert code == 0
    assert out.splitlines() == ["agent> Echo: hello there", "agent> Echo: how are you"]
    assert len(sim.requests(path="/v2/conversation/message")) == 2


# --------------------------------------------------------------------------- errors


def test_missing_key_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ALTABOTS_API_KEY", raising=False)

    code, out, err = run_cli(capsys, "agent")

    assert code == 2
    assert out == ""
    assert err.startswith("altabots-async: no API key: set ALTABOTS_API_KEY")
    assert len(err.splitlines()) == 1


def test_unreachable_host(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("ALTABOTS_BASE_URL", f"http://127.0.0.1:{closed_port()}/")

    code, _, err = run_cli(capsys, "quota", "--max-retries", "0")

    assert code == 3
    assert err.startswith("altabots-async: cannot reach the API:")
    assert len(err.splitlines()) == 1


def test_rejected_key_exits_4_without_showing_it(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = Simulator({"sk-someone-else": Plan.FREE})
    with serve_in_thread(other) as url:
        env.setenv("ALTABOTS_BASE_URL", url)
        code, _, err = run_cli(capsys, "agent")

    assert code == 4
    assert err.startswith("altabots-async: the server rejected the API key")


def test_version_and_help_list_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for command in ("demo", "agent", "chat", "batch", "quota"):
        assert command in out
    assert "130  interrupted" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("not json\n", "q.jsonl:1: not JSON"),
        ('{"question": "a"}\n[1, 2]\n', 'q.jsonl:2: expected a JSON object with a "question"'),
        ('{"id": 1, "question": "a"}\n{"id": "1", "question": "b"}\n', "id '1' appears twice"),
        ('{"id": [1], "question": "a"}\n', '"id" must be a string or an integer'),
        ("\n\n", "no questions in it"),
        (b"\xff\xfe{}", "not UTF-8 text"),
    ],
)
def test_bad_input_file(
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str | bytes | None,
    message: str,
) -> None:
    """The whole file is checked before any call; nothing is written."""
    source = tmp_path / "q.jsonl"
    if isinstance(content, bytes):
        source.write_bytes(content)
    elif content is not None:
        source.write_text(content, encoding="utf-8")

    code, _, err = run_cli(capsys, "batch", str(source), "--simulator")

    assert code == 2
    assert message in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "q.jsonl.answers.jsonl").exists()


# --------------------------------------------------------------------------- batch


def test_batch_records_a_failed_line_and_a_rerun_asks_only_what_is_left(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [{"id": f"q{i}", "question": f"question {i}"} for i in range(5)]
    rows[2]["question"] = "   "  # fails: an empty question
    source = write_jsonl(tmp_path / "questions.jsonl", rows)
    output = tmp_path / "answers.jsonl"

    code, _, err = run_cli(capsys, "batch", str(source), "-o", str(output), "--concurrency", "3")

    first = {record["id"]: record for record in read_jsonl(output)}
    assert code == 6
    assert "4 answered, 1 failed" in err
    assert sorted(first) == ["q0", "q1", "q2", "q3", "q4"]
    assert first["q2"]["error"]["message"] == "the question is empty"
    assert first["q4"]["answer"] == "Echo: question 4"
    assert len(sim.requests()) == 8  # create + send for each of the four good lines

    rows[2]["question"] = "question 2, fixed"
    write_jsonl(source, rows)
    code, _, err = run_cli(capsys, "batch", str(source), "-o", str(output))

    second = read_jsonl(output)
    assert code == 0
    assert "1 answered, 0 failed, 4 already answered" in err
    assert len(sim.requests()) == 10  # only the fixed line was asked
    assert sorted(record["id"] for record in second) == ["q0", "q1", "q2", "q3", "q4"]
    assert all("answer" in record for record in second)
    assert {r["id"]: r for r in second}["q0"] == first["q0"]  # kept as it was

    code, _, err = run_cli(capsys, "batch", str(source), "-o", str(output))

    assert code == 0
    assert "0 answered, 0 failed, 5 already answered" in err
    assert len(sim.requests()) == 10


def test_batch_drops_a_half_written_last_line(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The trace of a kill mid-write is cut off, and that line is asked again."""
    source = write_jsonl(
        tmp_path / "q.jsonl", [{"id": 1, "question": "a"}, {"id": 2, "question": "b"}]
    )
    output = tmp_path / "q.jsonl.answers.jsonl"
    done = {"id": "1", "question": "a", "answer": "Echo: a"}
    output.write_text(json.dumps(done) + '\n{"id": "2", "question": "b", "ans', encoding="utf-8")

    code, _, _ = run_cli(capsys, "batch", str(source))

    records = read_jsonl(output)
    assert code == 0
    assert records[0] == done
    assert records[1]["id"] == "2"
    assert records[1]["answer"] == "Echo: b"
    assert len(sim.requests()) == 2


def test_batch_refuses_an_output_file_it_did_not_write(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "q.jsonl", [{"question": "a"}])
    output = tmp_path / "out.jsonl"
    output.write_text("precious notes\nmore\n", encoding="utf-8")

    code, _, err = run_cli(capsys, "batch", str(source), "-o", str(output), "--simulator")

    assert code == 2
    assert "refusing to touch the file" in err
    assert output.read_text(encoding="utf-8") == "precious notes\nmore\n"


def test_batch_stops_when_the_host_is_unreachable(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env.setenv("ALTABOTS_BASE_URL", f"http://127.0.0.1:{closed_port()}/")
    source = write_jsonl(tmp_path / "q.jsonl", [{"question": f"q{i}"} for i in range(20)])

    code, _, err = run_cli(capsys, "batch", str(source), "--max-retries", "0")

    assert code == 3
    assert "cannot reach the API" in err
    assert (tmp_path / "q.jsonl.answers.jsonl").read_text(encoding="utf-8") == ""


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTABOTS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def test_ctrl_c_leaves_a_consistent_file_and_a_rerun_finishes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT mid-batch: exit 130, every line whole; the rerun answers only the rest.

    The first run is slow on purpose (400 lines, 2 at a time, 50 ms per call: 20 s), so the
    signal, sent as soon as 5 answers are on disk, always lands mid-batch.
    """
    lines = 400
    sim = Simulator({CANARY: Plan.enterprise(10_000, 3600.0)}, faults=Faults(latency=0.05))
    rows = [{"id": i, "question": f"q{i}"} for i in range(lines)]
    source = write_jsonl(tmp_path / "q.jsonl", rows)
    output = tmp_path / "q.jsonl.answers.jsonl"
    with serve_in_thread(sim) as url:
        env = _subprocess_env(ALTABOTS_API_KEY=CANARY, ALTABOTS_BASE_URL=url)
        process = subprocess.Popen(  # noqa: S603  (our own module, fixed arguments)
            [sys.executable, "-m", "altabots_async", "batch", str(source), "--concurrency", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not (output.exists() and output.read_text(encoding="utf-8").count("\n") >= 5):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the batch wrote nothing"
            time.sleep(0.01)  # polling for a condition, not waiting for time to pass
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

        interrupted = read_jsonl(output)
        assert process.returncode == 130, err
        assert "rerun the same command to continue" in err
        assert CANARY not in out + err
        assert 5 <= len(interrupted) < lines

        sim.faults.latency = None
        monkeypatch.setenv("ALTABOTS_API_KEY", CANARY)
        monkeypatch.setenv("ALTABOTS_BASE_URL", url)
        code, _, err = run_cli(capsys, "batch", str(source), "--concurrency", "32")

    final = read_jsonl(output)
    assert code == 0
    assert f"{lines - len(interrupted)} answered, 0 failed, {len(interrupted)} already" in err
    assert sorted(int(record["id"]) for record in final) == list(range(lines))
    creates = len(sim.requests(path="/v1/conversation"))
    assert lines <= creates <= lines + 2  # at most the two lines in flight were asked twice


def test_the_module_runs_as_a_program_and_debug_logs_hide_the_key() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "altabots_async", "agent", "--simulator", "--verbose"],
        env=_subprocess_env(ALTABOTS_API_KEY=CANARY),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Simulated Support Agent" in result.stdout
    assert "altabots_async DEBUG client created" in result.stderr
    assert CANARY not in result.stdout + result.stderr


# --------------------------------------------------------------------------- hardening (issue 15)


def answered_file(path: Path, *, failed: bool = True) -> Path:
    """An output file holding one answer and (``failed``) one error record: a rerun
    rewrites it (the failed line is asked again)."""
    records = [{"id": "1", "question": "a", "answer": "Echo: a"}]
    if failed:
        records.append({"id": "2", "question": "b", "error": {"type": "X", "message": "m"}})
    return write_jsonl(path, records)


def two_questions(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "q.jsonl", [{"id": 1, "question": "a"}, {"id": 2, "question": "b"}]
    )


def test_batch_rewrite_keeps_the_output_mode(
    served: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A resume rewrites the output through a temporary file and keeps its 0600 mode."""
    source = two_questions(tmp_path)
    output = answered_file(tmp_path / "answers.jsonl")
    output.chmod(0o600)

    code, _, _ = run_cli(capsys, "batch", str(source), "-o", str(output))

    assert code == 0
    assert output.stat().st_mode & 0o777 == 0o600
    assert [r["id"] for r in read_jsonl(output)] == ["1", "2"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_batch_rewrite_never_writes_through_a_planted_tmp_link(
    served: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A symlink planted at the old predictable ``OUTPUT.tmp`` name is left alone, and so
    is the file it points to."""
    source = two_questions(tmp_path)
    output = answered_file(tmp_path / "answers.jsonl")
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch\n", encoding="utf-8")
    (tmp_path / "answers.jsonl.tmp").symlink_to(victim)

    code, _, _ = run_cli(capsys, "batch", str(source), "-o", str(output))

    assert code == 0
    assert victim.read_text(encoding="utf-8") == "do not touch\n"
    assert (tmp_path / "answers.jsonl.tmp").is_symlink()


def test_batch_refuses_an_output_path_that_is_a_link(
    served: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An output path that is a symbolic link is refused (exit 2); its target is untouched."""
    source = two_questions(tmp_path)
    target = answered_file(tmp_path / "real.jsonl")
    before = target.read_bytes()
    link = tmp_path / "answers.jsonl"
    link.symlink_to(target)

    code, _, err = run_cli(capsys, "batch", str(source), "-o", str(link))

    assert code == 2
    assert "symbolic link" in err
    assert target.read_bytes() == before


def test_batch_refuses_json_lines_it_did_not_write(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An existing JSONL file whose lines are JSON but not answer records is never
    emptied: refused, untouched, nothing asked."""
    source = two_questions(tmp_path)
    output = tmp_path / "events.jsonl"
    output.write_text('{"event": "login"}\n{"event": "logout"}\n', encoding="utf-8")

    code, _, err = run_cli(capsys, "batch", str(source), "-o", str(output))

    assert code == 2
    assert "refusing to touch the file" in err
    assert output.read_text(encoding="utf-8") == '{"event": "login"}\n{"event": "logout"}\n'
    assert sim.requests() == []


def test_batch_writes_an_answer_holding_a_lone_surrogate(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A reply with a lone surrogate (valid JSON) does not abort the batch: it is written
    with a \\u escape, the other lines are answered, and a rerun finds it answered."""
    from altabots_async.testing import Context, Response

    @sim.route("POST", "/v2/conversation/message")
    async def message(ctx: Context) -> Response:
        conversation_id = ctx.request.json()["conversation_id"]
        text = "half \ud83d of a pair"
        reply = {
            "conversation_id": conversation_id,
            "message_id": "m1",
            "output": [{"content": {"text": text}}],
        }
        return Response(200, (("content-type", "application/json"),), json.dumps(reply).encode())

    rows = [{"id": i, "question": f"q{i}"} for i in range(3)]
    source = write_jsonl(tmp_path / "q.jsonl", rows)
    output = tmp_path / "answers.jsonl"

    code, _, _ = run_cli(capsys, "batch", str(source), "-o", str(output))
    records = read_jsonl(output)
    rerun, _, err = run_cli(capsys, "batch", str(source), "-o", str(output))

    assert code == 0
    assert sorted(r["id"] for r in records) == ["0", "1", "2"]
    assert all(r["answer"] == "half \ud83d of a pair" for r in records)
    assert b"\\ud83d" in output.read_bytes()
    assert rerun == 0
    assert "3 already answered" in err


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m"


def test_server_text_is_printed_with_control_characters_escaped(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Agent fields and server error messages carry no terminal escape sequence to the
    terminal: ESC, BEL and C1 controls are shown as \\xNN."""
    from altabots_async.testing import Context, Response

    @sim.route("GET", "/v1/bot/detail")
    async def agent(ctx: Context) -> Response:
        return Response.json({"code": 0, "data": {"bot_id": "b1", "name": f"Evil{ESCAPES}"}})

    code, out, _ = run_cli(capsys, "agent")
    assert code == 0
    assert "\\x1b]0;owned\\x07" in out

    @sim.route("GET", "/v1/bot/detail")  # the same path, now answering an error
    async def failing(ctx: Context) -> Response:
        return Response.error(400, 40000, f"bad {ESCAPES} request")

    code, _, err = run_cli(capsys, "agent")

    assert code == 1
    assert "\\x1b[2J" in err
    for text in (out, err):
        assert not any(ch in text for ch in "\x1b\x07\x9b")


def test_chat_replies_keep_newlines_but_not_escape_sequences(
    served: str, sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed reply keeps its line breaks; its control characters are escaped."""
    import io

    from altabots_async.testing import Context, Response

    async def chunks() -> Any:
        for event in (
            {"code": 11, "data": {"message_id": "m1"}},
            {"code": 3, "data": f"line one\nline two{ESCAPES}"},
            {"code": 0},
        ):
            yield b"data: " + json.dumps(event).encode() + b"\n\n"

    @sim.route("POST", "/v2/conversation/message")
    async def message(ctx: Context) -> Response:
        return Response.stream(chunks())

    monkeypatch.setattr(sys, "stdin", io.StringIO("hi\n"))

    code, out, _ = run_cli(capsys, "chat")

    assert code == 0
    assert "agent> line one\nline two\\x1b]0;owned\\x07" in out
    assert "\x1b" not in out
