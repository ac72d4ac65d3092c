"""The text engine on the real SmolLM2 model, in-process (one load per module)."""

import pytest

from mlxk_common.engine import SamplingParams, load_engine
from mlxk_common.errors import MlxkError

GREEDY = SamplingParams(temperature=0)
QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def engine(smollm2_workspace):
    return load_engine(smollm2_workspace)


def run(engine, request):
    events = list(engine.generate(request))
    deltas, finished = events[:-1], events[-1]
    assert finished.kind == "finished" and all(e.kind == "delta" for e in deltas)
    return deltas, finished


def test_facts_from_the_model_files(engine):
    assert engine.context_length == 8192  # max_position_embeddings
    im_end = engine.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert im_end in engine.eos_ids  # the chat template's end-of-turn token
    assert engine.markers is None
    assert engine.has_chat_template


@pytest.mark.slow
def test_greedy_answer_streams_and_stops_at_end_of_turn(engine):
    deltas, finished = run(engine, engine.prepare(prompt=QUESTION, max_tokens=24, sampling=GREEDY))
    assert "Paris" in finished.content
    assert "".join(d.content for d in deltas) == finished.content
    assert finished.finish_reason == "stop"
    assert "<|im_end|>" not in finished.content and "user" not in finished.content.lower()
    assert finished.usage["prompt_tokens"] == len(engine.prepare(prompt=QUESTION).prompt_tokens)
    assert finished.timing["ttft_s"] > 0 and finished.timing["generation_tps"] > 0


@pytest.mark.slow
def test_max_tokens_cuts_the_answer(engine):
    _, finished = run(engine, engine.prepare(prompt=QUESTION, max_tokens=3, sampling=GREEDY))
    assert finished.finish_reason == "length"
    assert finished.completion_tokens == 3
    assert finished.limit_source == "max_tokens"


@pytest.mark.slow
def test_same_seed_same_text(engine):
    hot = SamplingParams(temperature=1.5, top_p=1.0, seed=1234)
    texts = [run(engine, engine.prepare(prompt="Tell me a story.", max_tokens=12, sampling=hot))[1].content
             for _ in range(2)]
    assert texts[0] == texts[1] and texts[0]
    others = {run(engine, engine.prepare(prompt="Tell me a story.", max_tokens=12,
                                         sampling=hot.replace(seed=seed)))[1].content for seed in (1, 2, 3)}
    assert len(others | {texts[0]}) > 1  # the seed does change the draw


@pytest.mark.slow
def test_stop_string_across_tokens_never_streamed(engine):
    plain = run(engine, engine.prepare(prompt=QUESTION, max_tokens=24, sampling=GREEDY))[1].content
    assert "France is Paris" in plain
    # " is" and " Paris" are separate tokens: the stop string spans them.
    stop = "s Pari"
    deltas, finished = run(engine, engine.prepare(prompt=QUESTION, max_tokens=24, sampling=GREEDY, stop=[stop]))
    streamed = "".join(d.content for d in deltas)
    assert finished.finish_reason == "stop"
    assert streamed == finished.content == plain[: plain.index(stop)]
    assert not any("Pari" in d.content for d in deltas)


@pytest.mark.slow
def test_stop_string_holds_back_only_a_possible_start(engine):
    request = engine.prepare(prompt=QUESTION, max_tokens=24, sampling=GREEDY)
    plain = [d.content for d in run(engine, request)[0]]
    # A stop string that never occurs and shares no prefix with the text: the
    # stream is the same, piece by piece, as without it.
    with_stop = [d.content for d in run(engine, engine.prepare(prompt=QUESTION, max_tokens=24, sampling=GREEDY,
                                                               stop=["@@@"]))[0]]
    assert with_stop == plain


def test_budget_is_the_rest_of_the_window(engine):
    request = engine.prepare(prompt=QUESTION)
    assert request.max_tokens == engine.context_length - request.prompt_len
    assert request.limit_source == "context"
    assert engine.budget(8000, 500) == (192, "context")
    assert engine.budget(100, 500) == (500, "max_tokens")


def test_prompt_over_the_window_fails_before_generation(engine):
    with pytest.raises(MlxkError) as info:
        engine.prepare(prompt="word " * 9000, max_tokens=10)
    error = info.value
    assert error.type == "context_length_exceeded"
    assert error.details["context_length"] == 8192
    assert error.details["prompt_tokens"] > 8192


def test_messages_and_template_arguments(engine):
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
               {"role": "user", "content": "Bye"}]
    request = engine.prepare(messages=history, system="Be brief.")
    assert request.prompt_text.startswith("<|im_start|>system\nBe brief.<|im_end|>")
    assert "<|im_start|>assistant\nHello!<|im_end|>" in request.prompt_text
    raw = engine.prepare(prompt="Hi", chat_template=False)
    assert raw.prompt_text == "Hi"
    with pytest.raises(MlxkError) as info:
        engine.prepare(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}])
    assert info.value.type == "capability_not_supported"
    with pytest.raises(MlxkError) as info:
        engine.prepare(messages=[{"role": "wizard", "content": "x"}])
    assert info.value.type == "usage_error"


@pytest.mark.slow
def test_thinking_template_starts_in_reasoning(thinking_workspace):
    engine = load_engine(thinking_workspace)
    assert engine.markers == ("<think>", "</think>")
    on = engine.prepare(prompt=QUESTION, max_tokens=8, sampling=GREEDY, template_args={"enable_thinking": True})
    off = engine.prepare(prompt=QUESTION, max_tokens=8, sampling=GREEDY, template_args={"enable_thinking": False})
    assert on.in_reasoning and not off.in_reasoning
    deltas, finished = run(engine, on)
    # The model never closes the block: everything it wrote is reasoning.
    assert finished.reasoning and finished.content == ""
    assert all(d.content == "" for d in deltas)


@pytest.mark.slow
def test_conversation_cache_reuses_earlier_turns(engine):
    conversation = engine.conversation()
    history = [{"role": "user", "content": QUESTION}]
    first = engine.prepare(messages=history, max_tokens=24, sampling=GREEDY)
    answer = run_with(engine, first, conversation).content
    assert "Paris" in answer
    assert len(conversation.tokens) > first.prompt_len  # the prompt and the answer
    history += [{"role": "assistant", "content": answer},
                {"role": "user", "content": "What is the population of that city?"}]
    second = engine.prepare(messages=history, max_tokens=12, sampling=GREEDY)
    reused = len(second.prompt_tokens) - len(conversation.suffix(second.prompt_tokens))
    assert reused > first.prompt_len  # everything up to the new question is reused
    cached = run_with(engine, second, conversation)
    assert cached.content == run(engine, second)[1].content  # the same answer as from scratch
    assert cached.usage["prompt_tokens"] == second.prompt_len
    # Going back to an earlier state (a shorter history) cuts the cache back.
    again = run_with(engine, engine.prepare(messages=history[:1], max_tokens=24, sampling=GREEDY), conversation)
    assert again.content == answer


def run_with(engine, request, conversation):
    return list(engine.generate(request, conversation=conversation))[-1]
