"""BatchScheduler (continuous batching over mlx-lm's BatchGenerator) on SmolLM2."""

import pytest

from mlxk_common.engine import SamplingParams, load_engine

GREEDY = SamplingParams(temperature=0)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(smollm2_workspace):
    return load_engine(smollm2_workspace)


def single(engine, request):
    return list(engine.generate(request))[-1]


def drain(scheduler):
    deltas, finished = {}, {}
    for event in scheduler.run():
        if event.kind == "delta":
            deltas.setdefault(event.rid, []).append(event.content)
        else:
            finished[event.rid] = event
    return deltas, finished


def test_requests_join_a_running_batch(engine):
    first = engine.prepare(prompt="What is the capital of France?", max_tokens=16, sampling=GREEDY)
    second = engine.prepare(prompt="1, 2, 3, 4,", chat_template=False, max_tokens=6, sampling=GREEDY)
    scheduler = engine.batch(max_batch=4)
    scheduler.submit(first, rid="a")
    seen = []
    while not any(e.kind == "delta" for e in seen):  # "a" is decoding now
        seen += scheduler.step()
    scheduler.submit(second, rid="b")
    assert scheduler.active == 2
    deltas, finished = drain(scheduler)
    assert set(finished) == {"a", "b"}
    assert "Paris" in finished["a"].content
    assert finished["a"].finish_reason == "stop"
    assert finished["b"].finish_reason == "length" and finished["b"].completion_tokens == 6
    assert "".join(deltas["b"]) == finished["b"].content
    # Greedy decoding in a batch gives the single-request answer.
    assert finished["b"].content == single(engine, second).content
    scheduler.close()


def test_per_request_stops_budgets_and_seeds(engine):
    hot = SamplingParams(temperature=1.5, top_p=1.0, seed=99)
    requests = {
        "stop": engine.prepare(prompt="What is the capital of France?", max_tokens=16, sampling=GREEDY,
                               stop=["s Pari"]),
        "short": engine.prepare(prompt="Tell me a story.", max_tokens=2, sampling=GREEDY),
        "seeded": engine.prepare(prompt="Tell me a story.", max_tokens=8, sampling=hot),
    }
    scheduler = engine.batch(max_batch=3)
    for rid, request in requests.items():
        scheduler.submit(request, rid=rid)
    deltas, finished = drain(scheduler)
    assert finished["stop"].finish_reason == "stop"
    assert finished["stop"].content.endswith("France i")
    assert "Pari" not in "".join(deltas["stop"])
    assert finished["short"].completion_tokens == 2 and finished["short"].finish_reason == "length"
    # The seeded request draws from its own key: alone, or beside others, same text.
    alone = engine.batch(max_batch=1)
    alone.submit(requests["seeded"], rid="x")
    assert drain(alone)[1]["x"].content == finished["seeded"].content
    assert single(engine, requests["seeded"]).content == finished["seeded"].content


def test_cancel_drops_one_request(engine):
    scheduler = engine.batch(max_batch=2)
    long = engine.prepare(prompt="Count from 1 to 50.", max_tokens=40, sampling=GREEDY)
    other = engine.prepare(prompt="Count from 1 to 50.", max_tokens=5, sampling=GREEDY)
    scheduler.submit(long, rid="long")
    scheduler.submit(other, rid="other")
    scheduler.step()
    cancelled = scheduler.cancel("long")
    assert cancelled.finish_reason == "cancelled"
    assert scheduler.cancel("long") is None
    _, finished = drain(scheduler)
    assert list(finished) == ["other"] and finished["other"].completion_tokens == 5


def test_returned_cache_continues_a_prompt(engine):
    scheduler = engine.batch(max_batch=1)
    base = engine.prepare(prompt="Name three colors.", max_tokens=4, sampling=GREEDY)
    scheduler.submit(base, rid="base", return_cache=True)
    done = drain(scheduler)[1]["base"]
    assert done.prompt_cache is not None and done.cache_tokens[: base.prompt_len] == base.prompt_tokens
    more = engine.tokenizer.encode(" and two more", add_special_tokens=False)
    follow = engine.prepare(prompt="x", max_tokens=5, sampling=GREEDY)
    follow.prompt_tokens = list(done.cache_tokens) + more
    scheduler.submit(follow, rid="cached", cache=done.prompt_cache, cache_tokens=done.cache_tokens)
    cached = drain(scheduler)[1]["cached"]
    assert cached.content == single(engine, follow).content
    scheduler.close()
