"""Thinking markers: detection from the tokenizer/template, the incremental
split, and the whole per-request text path with a real tokenizer."""

import pytest

from mlxk_common.engine.reasoning import CONTENT, REASONING, ReasoningSplitter, detect_markers, starts_in_reasoning
from mlxk_bin.run.output import DIM, RESET, AnswerPrinter


def split_all(splitter, pieces):
    out = []
    for piece in pieces:
        out += splitter.feed(piece)
    out += splitter.flush()
    joined = {REASONING: "", CONTENT: ""}
    for kind, text in out:
        joined[kind] += text
    return joined


def test_split_markers_across_pieces():
    parts = split_all(ReasoningSplitter("<think>", "</think>"),
                      ["<th", "ink>\nLet me", " think.</th", "ink>\n\nParis", " it is."])
    assert parts == {REASONING: "Let me think.", CONTENT: "Paris it is."}


def test_split_starting_inside_reasoning():
    parts = split_all(ReasoningSplitter("<think>", "</think>", in_reasoning=True),
                      ["hmm", "</think>", "Answer"])
    assert parts == {REASONING: "hmm", CONTENT: "Answer"}


def test_unfinished_marker_is_text_after_all():
    parts = split_all(ReasoningSplitter("<think>", "</think>"), ["a <thi", "s is fine"])
    assert parts == {REASONING: "", CONTENT: "a <this is fine"}


def test_prompt_ending_in_open_block_starts_in_reasoning():
    markers = ("<think>", "</think>")
    assert starts_in_reasoning("<|im_start|>assistant\n<think>\n", markers)
    assert not starts_in_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n", markers)
    assert not starts_in_reasoning("<|im_start|>assistant\n", markers)
    assert not starts_in_reasoning("<think>\n", None)


def test_printer_dims_reasoning_on_a_colour_terminal():
    import io

    out = io.StringIO()
    printer = AnswerPrinter(out, stream=True, color=True, hide_reasoning=False)
    printer.delta("", "pondering")
    printer.delta("Paris", "")
    printer.end()
    assert out.getvalue() == f"{DIM}pondering{RESET}\n\nParis\n"


def test_printer_marks_or_hides_reasoning_without_colour():
    import io

    out = io.StringIO()
    printer = AnswerPrinter(out, stream=False, color=False, hide_reasoning=False)
    printer.delta("", "pondering")
    printer.delta("Paris", "")
    assert out.getvalue() == ""  # one write at the end when not streaming
    printer.end()
    assert out.getvalue() == "<think>\npondering\n</think>\n\nParis\n"
    hidden = io.StringIO()
    printer = AnswerPrinter(hidden, stream=True, color=True, hide_reasoning=True)
    printer.delta("", "pondering")
    printer.delta("Paris", "")
    printer.end()
    assert hidden.getvalue() == "Paris\n"


@pytest.fixture(scope="module")
def thinking_tokenizer(thinking_workspace):
    from mlx_lm.tokenizer_utils import load

    return load(thinking_workspace)


@pytest.fixture(scope="module")
def plain_tokenizer(smollm2_workspace):
    from mlx_lm.tokenizer_utils import load

    return load(smollm2_workspace)


def test_markers_come_from_the_template_not_the_name(thinking_tokenizer, plain_tokenizer):
    assert detect_markers(thinking_tokenizer) == ("<think>", "</think>")
    assert detect_markers(plain_tokenizer) is None


def test_text_stream_splits_real_tokens_and_cuts_stops(thinking_tokenizer):
    from mlxk_common.engine.textstream import TextStream

    text = "<think>\nThe user wants a city.\n</think>\n\nParis is the capital. User: next"
    tokens = thinking_tokenizer.encode(text, add_special_tokens=False)
    assert len(tokens) > 15  # the markers span several tokens each
    stream = TextStream(thinking_tokenizer.detokenizer, stops=["User:"], markers=("<think>", "</think>"))
    content, reasoning = [], []
    for token in tokens:
        c, r, stopped = stream.add(token)
        content.append(c)
        reasoning.append(r)
        if stopped:
            break
    c, r = stream.finish()
    content.append(c)
    reasoning.append(r)
    assert stopped
    assert "".join(reasoning) == "The user wants a city.\n"
    assert stream.reasoning_text == "The user wants a city."
    assert "".join(content) == stream.text == "Paris is the capital. "
