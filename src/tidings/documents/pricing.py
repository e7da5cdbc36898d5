"""What a fax, letter or postcard costs: price units times the operator's unit prices.

ClickSend shows a fax's ``message_pages`` and ``message_price`` and a letter's ``post_pages``
and ``post_price``; these are the numbers behind them. A fax is priced per page sent; a letter
per page printed (address sheet included), colour pages at their own price, priority post as a
surcharge per letter; a postcard per card.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["DocumentPrices", "fax_price", "letter_price", "postcard_price"]


@dataclass(frozen=True, slots=True)
class DocumentPrices:
    fax_page: Decimal = Decimal("0.10")
    letter_page: Decimal = Decimal("0.90")
    letter_page_colour: Decimal = Decimal("1.20")
    priority_post: Decimal = Decimal("1.00")
    postcard: Decimal = Decimal("1.50")


def fax_price(pages: int, prices: DocumentPrices) -> Decimal:
    return prices.fax_page * pages


def letter_price(pages: int, *, colour: bool, priority: bool, prices: DocumentPrices) -> Decimal:
    per_page = prices.letter_page_colour if colour else prices.letter_page
    return per_page * pages + (prices.priority_post if priority else Decimal(0))


def postcard_price(prices: DocumentPrices) -> Decimal:
    return prices.postcard
