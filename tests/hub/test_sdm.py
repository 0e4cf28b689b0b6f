"""Reading NTAG 424 DNA Secure Dynamic Messages: AN12196's example, our own messages, and
every changed byte refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import sdm

ZERO = bytes(16)
AN12196_PICC = "EF963FF7828658A599F3041510671E88"
AN12196_CMAC = "94EED9EE65337086"


def test_an12196_example_reads_uid_and_counter():
    tap = sdm.read_tap(AN12196_PICC, AN12196_CMAC, ZERO, ZERO)
    assert tap.uid_hex == "04de5f1eacc040"
    assert tap.counter == 61


def test_hex_is_accepted_in_either_case():
    tap = sdm.read_tap(AN12196_PICC.lower(), AN12196_CMAC.lower(), ZERO, ZERO)
    assert tap.counter == 61


def test_another_key_does_not_verify():
    other = bytes(range(16))
    with pytest.raises(sdm.ForgedTap):
        sdm.read_tap(AN12196_PICC, AN12196_CMAC, other, ZERO)
    with pytest.raises(sdm.ForgedTap):
        sdm.read_tap(AN12196_PICC, AN12196_CMAC, ZERO, other)


@pytest.mark.parametrize(
    ("picc", "cmac"),
    [
        (None, AN12196_CMAC),
        (AN12196_PICC, None),
        (AN12196_PICC[:-1], AN12196_CMAC),
        (AN12196_PICC + "0", AN12196_CMAC),
        (AN12196_PICC, AN12196_CMAC[:-1]),
        ("G" * 32, AN12196_CMAC),
        (AN12196_PICC, " " + AN12196_CMAC[1:]),
        (AN12196_PICC + "\n", AN12196_CMAC),
        ("\u0661" * 32, AN12196_CMAC),  # Arabic-Indic digits are digits, not hex digits
        (["x"], AN12196_CMAC),
    ],
)
def test_malformed_parameters_are_told_apart(picc, cmac):
    with pytest.raises(sdm.MalformedTap):
        sdm.read_tap(picc, cmac, ZERO, ZERO)


keys = st.binary(min_size=16, max_size=16)
uids = st.binary(min_size=7, max_size=7)
counters = st.integers(min_value=0, max_value=sdm.MAX_COUNTER)


@settings(deadline=None)
@given(uids, counters, keys, keys)
def test_generated_messages_read_back(uid, counter, meta, file):
    picc, cmac = sdm.make_tap(uid, counter, meta, file)
    assert sdm.read_tap(picc, cmac, meta, file) == sdm.Tap(uid, counter)


@settings(deadline=None)
@given(uids, counters, keys, keys, st.data())
def test_any_changed_byte_is_refused(uid, counter, meta, file, data):
    picc, cmac = sdm.make_tap(uid, counter, meta, file)
    message = bytearray.fromhex(picc + cmac)
    index = data.draw(st.integers(0, len(message) - 1), label="byte")
    flip = data.draw(st.integers(1, 255), label="xor")
    message[index] ^= flip
    text = message.hex()
    with pytest.raises(sdm.ForgedTap):
        sdm.read_tap(text[:32], text[32:], meta, file)


@settings(deadline=None)
@given(st.integers(0, 31), st.integers(1, 255))
def test_any_changed_byte_of_the_published_example_is_refused(index, flip):
    message = bytearray.fromhex(AN12196_PICC + AN12196_CMAC)
    message[index % len(message)] ^= flip
    text = message.hex()
    with pytest.raises(sdm.ForgedTap):
        sdm.read_tap(text[:32], text[32:], ZERO, ZERO)
