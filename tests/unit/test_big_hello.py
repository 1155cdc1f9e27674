"""The big hello (`Experiment.BIG_HELLO`): OpenSSL's own ClientHello grown past one
full-size packet by RFC 7685's padding extension — every length in it still adds up, the
padding is the last extension and all zeros, and a record that is no whole ClientHello is
left as it was."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netdiag.probes.hello import BIG_HELLO_BYTES, client_hello, padded
from netdiag.report.observations import Experiment


def extensions(record: bytes) -> list[tuple[int, bytes]]:
    """The extensions of a ClientHello record, read the long way (every length checked)."""
    assert record[0] == 22 and struct.unpack_from("!H", record, 3)[0] == len(record) - 5
    assert record[5] == 1 and int.from_bytes(record[6:9], "big") == len(record) - 9
    body = record[9:]
    at = 34
    at += 1 + body[at]
    at += 2 + struct.unpack_from("!H", body, at)[0]
    at += 1 + body[at]
    end = at + 2 + struct.unpack_from("!H", body, at)[0]
    assert end == len(body)
    found, at = [], at + 2
    while at < end:
        kind, length = struct.unpack_from("!HH", body, at)
        found.append((kind, body[at + 4 : at + 4 + length]))
        at += 4 + length
    assert at == end
    return found


@pytest.mark.parametrize("server_name", ["mail1.dicommail.com", ""])
def test_the_big_hello_is_the_full_hello_padded_past_a_packet(server_name: str) -> None:
    full, versions = client_hello(server_name, Experiment.SAME_HELLO)
    big, big_versions = client_hello(server_name, Experiment.BIG_HELLO)
    assert len(big) == BIG_HELLO_BYTES > 1460 > len(full)
    assert big_versions == versions
    kinds = [kind for kind, _ in extensions(big)]
    assert kinds[-1] == 21 and 21 not in kinds[:-1]
    assert set(extensions(big)[-1][1]) == {0}
    # The same extensions as the full hello's, in its order, before the padding.
    assert kinds[:-1] == [kind for kind, _ in extensions(full)]


def test_the_split_big_hello_is_the_same_hello() -> None:
    big, _ = client_hello("mail1.dicommail.com", Experiment.BIG_HELLO)
    split, _ = client_hello("mail1.dicommail.com", Experiment.BIG_HELLO_SPLIT)
    assert len(split) == len(big) == BIG_HELLO_BYTES
    assert [k for k, _ in extensions(split)] == [k for k, _ in extensions(big)]


def test_a_record_as_large_already_or_no_client_hello_is_left_alone() -> None:
    full, _ = client_hello("mail1.dicommail.com", Experiment.SAME_HELLO)
    assert padded(full, len(full)) == full
    assert padded(full, 100) == full
    alert = b"\x15\x03\x03\x00\x02\x02\x28"
    assert padded(alert, 1600) == alert
    cut = full[:-10]
    assert padded(cut, 1600) == cut


@given(st.binary(max_size=600))
def test_any_bytes_are_padded_or_left_alone_never_an_error(data: bytes) -> None:
    grown = padded(data, BIG_HELLO_BYTES)
    assert grown == data or len(grown) == BIG_HELLO_BYTES
