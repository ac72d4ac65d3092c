"""mlx-run --ndjson-in: many requests, batched, answered in input order."""

import json

import pytest

from mlxk_bin.run import main

pytestmark = pytest.mark.slow


def test_twenty_requests_in_order_with_one_bad_line(inproc, smollm2_workspace):
    lines = []
    for i in range(21):
        if i == 7:
            lines.append("{this is not json")
        elif i == 12:
            lines.append(json.dumps({"id": f"r{i}", "prompt": "The capital of France is", "max_tokens": 3,
                                     "temperature": 0}))
        else:
            lines.append(json.dumps({"id": f"r{i}", "prompt": f"{i} plus {i} equals", "max_tokens": 2 + i % 3,
                                     "temperature": 0}))
    stdin = "\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n"  # a blank line is skipped
    result = inproc(main, [str(smollm2_workspace), "--ndjson-in", "--batch-size", "8", "--no-chat-template"],
                    stdin=stdin)
    assert result.code == 1  # one line failed
    records = result.ndjson()
    assert [r["index"] for r in records] == list(range(21))
    assert [r["event"] for r in records].count("error") == 1
    bad = records[7]
    assert bad["event"] == "error" and bad["error"]["type"] == "usage_error" and bad["line"] == 8
    for i, record in enumerate(records):
        if i == 7:
            continue
        assert record["event"] == "result" and record["id"] == f"r{i}"
        assert record["finish_reason"] == "length"
        expected = 3 if i == 12 else 2 + i % 3
        assert record["usage"]["completion_tokens"] == expected
    assert "Paris" in records[12]["response"]


def test_messages_options_and_json_envelope(inproc, smollm2_workspace):
    lines = [
        {"id": "chat", "messages": [{"role": "user", "content": "What is the capital of France?"}],
         "max_tokens": 12, "temperature": 0, "stop": ["s Pari"]},
        {"id": "seeded", "prompt": "Tell me a story.", "max_tokens": 6, "temperature": 1.3, "seed": 5},
        {"id": "seeded-again", "prompt": "Tell me a story.", "max_tokens": 6, "temperature": 1.3, "seed": 5},
        {"id": "overflow", "prompt": "word " * 9000},
        {"id": "bad-option", "prompt": "hi", "temperature": "hot"},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    result = inproc(main, [str(smollm2_workspace), "--ndjson-in", "--json", "--batch-size", "2"], stdin=stdin)
    assert result.code == 1
    data = result.json()["data"]
    assert data["count"] == 5 and data["errors"] == 2
    by_id = {r["id"]: r for r in data["results"]}
    assert [r["id"] for r in data["results"]] == [line["id"] for line in lines]
    assert by_id["chat"]["response"] == "The capital of France i"
    assert by_id["seeded"]["response"] == by_id["seeded-again"]["response"]
    assert by_id["overflow"]["error"]["type"] == "context_length_exceeded"
    assert by_id["bad-option"]["error"]["type"] == "usage_error"
