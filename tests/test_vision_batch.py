"""VisionBatchScheduler (engine/vision_batch.py) on the tiny random Qwen2-VL, in process.

Waiting requests of one prompt layout share a prefill; requests of another
layout (text-only, two images) wait for the next one.  Either way every
answer equals the same request run alone, token for token, greedy or seeded.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]


@pytest.fixture(scope="module")
def engine(tiny_vlm):
    from mlxk_common.engine import load_engine

    return load_engine(str(tiny_vlm))


def request(engine, images, files, seed=None):
    from mlxk_common.engine import SamplingParams
    from mlxk_common.engine.images import load_images

    sampling = SamplingParams(temperature=0) if seed is None else SamplingParams(temperature=0.9, seed=seed)
    return engine.prepare(
        prompt="Describe the image.",
        images=load_images([str(images[f]) for f in files], exif=False),
        max_tokens=8,
        sampling=sampling,
    )


def run_batch(engine, requests):
    sched = engine.batch(max_batch=8)
    for i, r in enumerate(requests):
        sched.submit(r, rid=i)
    sched.step()
    first_prefill = {rid for rid, live in sched._live.items() if live.uid is not None}
    out = {}
    while sched.active:
        for event in sched.step():
            if event.kind == "finished":
                out[event.rid] = (event.content, event.completion_tokens)
    sched.close()
    return out, first_prefill


def alone(engine, r):
    finished = list(engine.generate(r))[-1]
    return finished.content, finished.completion_tokens


@pytest.mark.parametrize("seeded", [False, True])
def test_one_layout_shares_a_prefill_and_answers_as_alone(engine, vision_images, seeded):
    files = [["red.png"], ["blue.jpg"], ["red.png"], ["blue.jpg"]]  # blue.jpg is 64x48: fewer image tokens
    make = [lambda f=f, i=i: request(engine, vision_images, f, seed=i if seeded else None) for i, f in enumerate(files)]
    out, first = run_batch(engine, [m() for m in make])
    assert first == {0, 1, 2, 3}  # one image each: one prefill for all four
    for i, m in enumerate(make):
        assert out[i] == alone(engine, m())


def test_other_layouts_wait_for_their_own_prefill(engine, vision_images):
    files = [["red.png"], [], ["red.png", "noise.bmp"], ["noise.bmp"], []]
    requests = [request(engine, vision_images, f) for f in files]
    out, first = run_batch(engine, requests)
    assert first == {0, 3}  # the oldest and its layout; text-only and two-image requests later
    for i, f in enumerate(files):
        assert out[i] == alone(engine, request(engine, vision_images, f))
