"""The catalogue of TLS-inspecting products (data/inspection_products.toml): it names the
product behind an issuer; the verdict itself rests on pins and other evidence."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources


class ProductKind(StrEnum):
    """Where a product inspects: on the path (a firewall, proxy, cloud service) or on the
    gateway itself (security software with its root in the machine's store)."""

    NETWORK = "network"
    ENDPOINT = "endpoint"


@dataclass(frozen=True, slots=True)
class Product:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    example: str
    source: str
    kind: ProductKind = ProductKind.NETWORK
    # Endpoint software: where its own exclusion is set (English, German), how sure.
    exclusion: str = ""
    exclusion_de: str = ""
    how_sure: str = ""
    # A network product whose vendor also sells endpoint software that signs with the same
    # CA names: the endpoint product's name, for a chain proven forged on this machine.
    on_the_gateway: str = ""
    # Endpoint software: the names of its processes that hold intercepted connections
    # (where its vendor documents them), lower-case.
    processes: tuple[str, ...] = ()


def _whole_words(pattern: str) -> re.Pattern[str]:
    """A pattern that matches only where no letter or digit adjoins it: a short name such
    as `SRX` or `iboss` must not be found inside a random serial like `OU=Testing CA #xSrXq`
    or a company like `Mysrx GmbH` (an underscore, a dot or a space separates)."""
    return re.compile(rf"(?<![^\W_])(?:{pattern})(?![^\W_])", re.IGNORECASE)


@functools.cache
def catalogue() -> tuple[Product, ...]:
    text = (
        resources.files("netdiag").joinpath("data", "inspection_products.toml").read_text("utf-8")
    )
    return tuple(
        Product(
            name=entry["name"],
            patterns=tuple(_whole_words(p) for p in entry["patterns"]),
            example=entry["example"],
            source=entry["source"],
            kind=ProductKind(entry.get("kind", "network")),
            exclusion=entry.get("exclusion", ""),
            exclusion_de=entry.get("exclusion_de", ""),
            how_sure=entry.get("how_sure", ""),
            on_the_gateway=entry.get("on_the_gateway", ""),
            processes=tuple(name.lower() for name in entry.get("processes", ())),
        )
        for entry in tomllib.loads(text)["products"]
    )


_META = set(".^$*+?{}[]()|\\")


def literal_hint(pattern: str) -> str:
    """Literal text every match of `pattern` contains, lower-cased: its characters up to
    the first special one (without the last, if that is a quantifier's); "" when there is
    none or the pattern has a top-level alternative."""
    depth = 0
    for char in pattern:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            return ""
    hint = ""
    for char in pattern:
        if char in _META:
            if char in "?*{" and hint:
                hint = hint[:-1]
            break
        hint += char
    return hint.lower()


@functools.cache
def _hinted(
    products: tuple[Product, ...],
) -> tuple[tuple[Product, tuple[tuple[str, re.Pattern[str]], ...]], ...]:
    """Each product with each pattern's literal hint (the part of the pattern inside the
    whole-word guard)."""
    return tuple(
        (product, tuple((literal_hint(_inner(p.pattern)), p) for p in product.patterns))
        for product in products
    )


def _inner(pattern: str) -> str:
    prefix, suffix = "(?<![^\\W_])(?:", ")(?![^\\W_])"
    if pattern.startswith(prefix) and pattern.endswith(suffix):
        return pattern[len(prefix) : -len(suffix)]
    return pattern


def identify(
    names: Iterable[str], products: Iterable[Product] | None = None
) -> tuple[Product, str] | None:
    """The first product whose pattern matches one of `names`, and the name it matched."""
    candidates = tuple(products) if products is not None else catalogue()
    # Most names match no product (a machine's store holds well over a hundred roots): a
    # substring test rules a pattern out before its regular expression runs.
    hinted = _hinted(candidates)
    for name in names:
        lower = name.lower()
        for product, patterns in hinted:
            # An empty hint (no text every match contains) is in every name.
            if any(hint in lower and p.search(name) for hint, p in patterns):
                return product, name
    return None


def product_named(name: str) -> Product | None:
    """The catalogue's product of this name, or None."""
    return next((p for p in catalogue() if p.name == name), None)


def product_running_as(process: str) -> Product | None:
    """The endpoint product one of whose documented processes is `process` (an executable's
    name, any case), or None."""
    name = process.lower()
    return next((p for p in catalogue() if name in p.processes), None)


def local_product(named: str, process: str) -> Product | None:
    """The endpoint product behind an interception proven to take place on this machine: by
    the process that holds the other end of the connection (the stronger fact: it runs
    here), else by the chain's product (`named`), or the endpoint software of the same vendor
    that signs with the same CA names; None when neither names endpoint software."""
    running = product_running_as(process)
    if running is not None:
        return running
    product = product_named(named)
    if product is not None and product.on_the_gateway:
        product = product_named(product.on_the_gateway)
    return product if product is not None and product.kind is ProductKind.ENDPOINT else None
