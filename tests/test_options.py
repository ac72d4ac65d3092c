"""The shared option types: one meaning of a size for every tool, ports, counts, the confirm prompt."""

from __future__ import annotations

import argparse
import io

import pytest

from mlxk_common.iox import IOEnv
from mlxk_common.options import SIZE, ask_yes_no, count, parse_size, port


@pytest.mark.parametrize("text, value", [
    ("50MB", 50 * 10**6), ("512k", 512 * 10**3), ("1G", 10**9), ("0", 0), ("100", 100), ("5TB", 5 * 10**12),
    ("1.5MiB", int(1.5 * 2**20)), ("2GiB", 2 * 2**30), ("512KiB", 512 * 2**10), ("1e3", 1000), (" 7 MB ", 7 * 10**6),
])
def test_sizes_are_decimal_unless_binary_units(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["lots", "-1MB", "", "infMB", "inf", "nan", "1e400", "1e30GB", "5XB", "MB"])
def test_bad_sizes(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_a_bad_size_is_an_argparse_usage_error_naming_the_value():
    with pytest.raises(argparse.ArgumentTypeError, match="'1e400'"):
        SIZE("1e400")


@pytest.mark.parametrize("cast, good, bad", [(port, ["0", "8000", "65535"], ["-1", "65536", "x"]),
                                             (count, ["1", "32"], ["0", "-3", "1.5"])])
def test_ports_and_counts(cast, good, bad):
    for text in good:
        assert cast(text) == int(text)
    for text in bad:
        with pytest.raises(ValueError):
            cast(text)


@pytest.mark.parametrize("typed, default, expected", [
    ("y\n", False, True), ("yes\n", False, True), ("\n", False, False), ("n\n", True, False),
    ("\n", True, True), ("", True, True), ("", False, False), ("maybe\n", True, False),
])
def test_ask_yes_no(typed, default, expected):
    err = io.StringIO()
    env = IOEnv(stdin=io.StringIO(typed), stdout=io.StringIO(), stderr=err, environ={})
    assert ask_yes_no(env, "Delete it?", default) is expected
    assert err.getvalue() == "Delete it? " + ("[Y/n] " if default else "[y/N] ")
