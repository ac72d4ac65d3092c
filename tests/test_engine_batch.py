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


PASSAGE = ("Summarize: The river Seine flows through Paris and into the English Channel at Le Havre. "
           "It is 777 kilometres long and carries barges, tour boats and, in summer, swimmers.")


def test_chunked_prompt_processing_gives_the_same_greedy_tokens(engine):
    request = engine.prepare(prompt=PASSAGE, chat_template=False, max_tokens=10, sampling=GREEDY)
    short = engine.prepare(prompt="1, 2, 3, 4,", chat_template=False, max_tokens=8, sampling=GREEDY)

    def answers(**options):
        scheduler = engine.batch(max_batch=4, **options)
        scheduler.submit(request, rid="long")
        scheduler.submit(short, rid="short")  # prompts of other lengths, processed together
        finished = drain(scheduler)[1]
        scheduler.close()
        return finished["long"].content, finished["short"].content

    whole = answers(prefill_step_s=None)  # one forward pass per prompt, as mlx-lm does by default
    assert whole[0] == single(engine, request).content and whole[1] == single(engine, short).content
    for size in (1, 7):  # every boundary, and odd ones
        assert answers(prefill_step_s=None, prefill_step_size=size) == whole, size
    assert answers() == whole  # paced by time, whatever sizes that picks here


def test_a_long_prompt_is_processed_in_steps_while_others_decode_and_can_be_cancelled(engine):
    scheduler = engine.batch(max_batch=2, prefill_step_s=None, prefill_step_size=4)
    talker = engine.prepare(prompt="Count from 1 to 50.", max_tokens=16, sampling=GREEDY)
    scheduler.submit(talker, rid="talker")
    while not any(e.kind == "delta" for e in scheduler.step()):
        pass
    long = engine.prepare(prompt=" ".join(["river"] * 300), chat_template=False, max_tokens=5, sampling=GREEDY)
    scheduler.submit(long, rid="long")
    assert scheduler.prefilling == 1
    tokens_meanwhile = 0
    for _ in range(6):  # 24 of its 300 prompt tokens: far from done, and "talker" keeps talking
        tokens_meanwhile += sum(1 for e in scheduler.step() if e.rid == "talker")
        assert scheduler.prefilling == 1
    assert tokens_meanwhile >= 5  # (a multi-byte character may hold one token's text back)
    cancelled = scheduler.cancel("long")
    assert cancelled.finish_reason == "cancelled" and cancelled.completion_tokens == 0
    assert scheduler.prefilling == 0 and scheduler.active == 1
    finished = drain(scheduler)[1]
    assert list(finished) == ["talker"]
    assert finished["talker"].content == single(engine, talker).content
    scheduler.close()


def test_a_shared_prefix_warmed_in_steps_serves_later_requests(engine):
    from mlxk_common.engine.prefix_cache import PrefixCache

    cache = PrefixCache(10**8)
    system = "You are a careful assistant who answers in one short sentence about geography."
    ask = [engine.prepare(messages=[{"role": "system", "content": system}, {"role": "user", "content": q}],
                          max_tokens=8, sampling=GREEDY) for q in ("Where is Paris?", "Where is Rome?")]
    shared = 0
    while ask[0].prompt_tokens[shared] == ask[1].prompt_tokens[shared]:
        shared += 1
    warmup = cache.warm(engine.model, ask[0].prompt_tokens[:shared])
    steps = 0
    while warmup.left:
        assert warmup.step(5) <= 5
        steps += 1
    assert steps == -(-shared // 5) and cache.reusable(ask[1].prompt_tokens) == shared
    assert cache.warm(engine.model, ask[0].prompt_tokens[:shared]) is None  # nothing left to do
    scheduler = engine.batch(max_batch=2)
    for i, request in enumerate(ask):
        kv, cached = cache.lookup(request.prompt_tokens)
        assert cached == shared
        scheduler.submit(request, rid=i, cache=kv, cache_tokens=request.prompt_tokens[:cached])
    finished = drain(scheduler)[1]
    scheduler.close()
    assert [finished[i].content for i in range(2)] == [single(engine, r).content for r in ask]


def test_logprobs_and_stop_sequence_agree_between_single_and_batch(engine):
    plain = SamplingParams(temperature=0, repetition_penalty=1.0)
    request = engine.prepare(prompt="1, 2, 3,", chat_template=False, max_tokens=6, sampling=plain)
    request.logprobs = 2
    alone = single(engine, request)
    scheduler = engine.batch(max_batch=2)
    scheduler.submit(request, rid="a")
    other = engine.prepare(prompt="Hello", chat_template=False, max_tokens=3, sampling=plain)
    scheduler.submit(other, rid="b")  # no logprobs asked: none computed
    _, finished = drain(scheduler)
    scheduler.close()
    assert finished["b"].logprobs is None
    batched = finished["a"].logprobs
    assert [e.token_id for e in batched] == [e.token_id for e in alone.logprobs]
    assert all(abs(a.logprob - b.logprob) < 1e-3 for a, b in zip(batched, alone.logprobs))
    assert "".join(e.text for e in alone.logprobs).lstrip() == alone.content.lstrip()
    for e in alone.logprobs:
        assert len(e.top) == 2 and e.top[0].token_id == e.token_id  # greedy: the likeliest
        assert bytes(e.bytes).decode() == e.text
    assert alone.stop_sequence is None
    stop = alone.content[2:4]
    request = engine.prepare(prompt="1, 2, 3,", chat_template=False, max_tokens=6, sampling=plain, stop=[stop])
    assert single(engine, request).stop_sequence == stop
