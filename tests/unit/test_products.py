"""The product catalogue's quick path: a substring hint rules a pattern out before its
regular expression runs; it must never rule out a name the pattern matches."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.trust.products import catalogue, identify, literal_hint


def identify_slowly(name: str) -> str | None:
    """Every pattern of every product, no hint: what `identify` must agree with."""
    found = next((p for p in catalogue() if any(r.search(name) for r in p.patterns)), None)
    return found.name if found else None


PIECES = st.sampled_from(
    [example for p in catalogue() for example in (p.example, p.name)]
    + ["CN=R11,O=Let's Encrypt", "OU=Testing CA #xSrXq", "Mysrx GmbH", "AVG", "avg web", " "]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(PIECES | st.text(max_size=12), min_size=1, max_size=3))
def test_the_quick_path_agrees_with_every_pattern(parts: list[str]) -> None:
    # The hints are made afresh (they are cached per process): what is tested is how they
    # are made, not what an earlier test left behind.
    from netdiag.trust.products import _hinted

    _hinted.cache_clear()
    name = ",".join(parts)
    found = identify([name])
    assert (found[0].name if found else None) == identify_slowly(name)


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [
        ("FortiGate CA", "fortigate ca"),
        ("Trend ?Micro", "trend"),
        ("AVG (Web|Mail)", "avg "),
        ("ssl[-_ ]?bump", "ssl"),
        ("Avast|AVG", ""),  # a top-level alternative: no single text is in every match
        ("(?:x|y)z", ""),
        ("mitm{2}", "mit"),
        ("O=ESET", "o=eset"),
        ("(a|b)c|d", ""),  # an alternative after a group is still at the top level
        ("(?:a|b)cd", ""),
        ("ab(c|d)", "ab"),  # an alternative inside a group leaves the text before it
        ("ab?c", "a"),
        ("ab*c", "a"),
        ("ab{2}c", "a"),
        ("ab(c)d|e", ""),  # a group closed before a top-level alternative
        ("a(b)c(d|e)", "a"),
    ],
)
def test_a_hint_is_text_every_match_contains(pattern: str, hint: str) -> None:
    assert literal_hint(pattern) == hint


def test_every_catalogue_pattern_gets_the_hint_of_its_own_text() -> None:
    """The hint is taken from the pattern inside its whole-word guard, not from the guard."""
    from netdiag.trust.products import _hinted

    for product, patterns in _hinted(catalogue()):
        for hint, compiled in patterns:
            assert hint == "" or hint in compiled.pattern.lower(), (product.name, hint)
            assert not hint.startswith("(?<!"), product.name
    by_name = {product.name: [h for h, _ in patterns] for product, patterns in _hinted(catalogue())}
    assert by_name["FortiGate"][0] == "fortigate ca"
    assert by_name["ESET"] == ["eset ssl filter", "o=eset"]


@pytest.mark.parametrize(
    ("name", "product"),
    [
        ("cn=fortigate ca,o=fortinet", "FortiGate"),  # any case, as issuers are written
        ("CN=ESET SSL FILTER CA", "ESET"),
        ("O=Zscaler Inc.", "Zscaler"),
        ("CN=xZscalerx", None),  # whole words only
    ],
)
def test_names_are_matched_in_any_case_and_as_whole_words(name: str, product: str | None) -> None:
    # The patterns compiled afresh (the catalogue is cached per process).
    found = identify([name], catalogue.__wrapped__())
    assert (found[0].name if found else None) == product
    if found:
        assert found[1] == name


def test_a_pattern_without_a_hint_is_always_tried() -> None:
    """A top-level alternative has no text every match contains: its regular expression
    runs for every name."""
    import re

    from netdiag.trust.products import Product

    acme = Product(name="Acme", patterns=(re.compile("Acme|Bcme"),), example="", source="test")
    assert identify(["CN=R11,O=Let's Encrypt", "O=Bcme Inspection"], [acme]) == (
        acme,
        "O=Bcme Inspection",
    )
    assert identify(["CN=R11,O=Let's Encrypt"], [acme]) is None
