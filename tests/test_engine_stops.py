"""The incremental stop-string matcher (pure text, no model)."""

from mlxk_common.engine.stops import StopMatcher


def feed_all(matcher, pieces):
    out, stopped = [], False
    for piece in pieces:
        text, stopped = matcher.feed(piece)
        out.append(text)
        if stopped:
            break
    if not stopped:
        out.append(matcher.flush())
    return out, stopped


def test_stop_across_pieces_is_never_released():
    out, stopped = feed_all(StopMatcher(["User:"]), ["Hello", " there\nUs", "er: more", " text"])
    assert stopped
    assert "".join(out) == "Hello there\n"
    assert all("Us" not in piece for piece in out)


def test_only_a_possible_prefix_is_held_back():
    m = StopMatcher(["</answer>"])
    assert m.feed("The end is near <") == ("The end is near ", False)
    assert m.feed("/ans") == ("", False)
    # "</ansX" can no longer start the stop string: all of it comes out at once.
    assert m.feed("X and more") == ("</ansX and more", False)
    assert m.flush() == ""


def test_text_without_any_prefix_passes_unchanged():
    m = StopMatcher(["###"])
    assert m.feed("plain words") == ("plain words", False)
    assert m.feed(" # x") == (" # x", False)


def test_held_text_is_released_at_the_end():
    m = StopMatcher(["STOP"])
    assert m.feed("almost ST") == ("almost ", False)
    assert m.flush() == "ST"


def test_earliest_of_several_stops_wins():
    out, stopped = feed_all(StopMatcher(["world", "lo w"]), ["hello world"])
    assert stopped and "".join(out) == "hel"


def test_stop_at_the_very_start_releases_nothing():
    m = StopMatcher(["\n\n"])
    assert m.feed("\n") == ("", False)
    assert m.feed("\nrest") == ("", True)
    assert m.feed("more") == ("", True)
    assert m.flush() == ""


def test_empty_stop_strings_are_ignored():
    m = StopMatcher(["", "x"])
    assert m.feed("abc") == ("abc", False)
