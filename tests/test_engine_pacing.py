"""PrefillPacer: prefill steps sized by time, not tokens (no mlx needed)."""

from mlxk_common.engine.pacing import FIRST_CHUNK, GROWTH, PrefillPacer


def test_it_starts_small_and_grows_at_most_by_a_factor_per_step():
    pacer = PrefillPacer(target_s=0.5, most=2048)
    assert pacer.chunk() == FIRST_CHUNK
    sizes = []
    for _ in range(8):  # a fast machine: 10,000 tokens per second
        chunk = pacer.chunk()
        sizes.append(chunk)
        pacer.record(chunk, chunk / 10_000, chunk)
    assert sizes[:4] == [FIRST_CHUNK, FIRST_CHUNK * GROWTH, FIRST_CHUNK * GROWTH**2, FIRST_CHUNK * GROWTH**3]
    assert all(b <= a * GROWTH for a, b in zip(sizes, sizes[1:]))
    assert sizes[-1] == 2048  # never more than the most


def test_a_slow_machine_gets_steps_of_about_the_target_time():
    pacer = PrefillPacer(target_s=0.5)
    for _ in range(6):  # 5 tokens per second, as a busy CPU does
        chunk = pacer.chunk()
        pacer.record(chunk, chunk / 5, chunk)
    assert pacer.chunk() == 2  # 0.4 s: within the 0.5 s target
    assert pacer.chunk(rows=4) == 1  # several prompts at once share the step; never below one token


def test_it_follows_a_change_of_speed_and_ignores_empty_steps():
    pacer = PrefillPacer(target_s=1.0)
    for _ in range(10):
        pacer.record(pacer.chunk(), pacer.chunk() / 1000, pacer.chunk())
    fast = pacer.chunk()
    pacer.record(0, 5.0)  # a step without prompt work says nothing about the speed
    assert pacer.chunk() == fast
    chunk = pacer.chunk()
    pacer.record(chunk, chunk / 10, chunk)  # the machine got 100x slower: one step overran
    assert pacer.chunk() == 10  # the next one fits the target again
    for _ in range(3):  # and faster again: it grows back step by step
        chunk = pacer.chunk()
        pacer.record(chunk, chunk / 1000, chunk)
    assert 10 < pacer.chunk() < fast


def test_without_a_target_the_step_is_fixed():
    pacer = PrefillPacer(target_s=None, most=512)
    pacer.record(100, 100.0, 100)
    assert pacer.chunk() == 512 and pacer.chunk(rows=8) == 512
