"""Bounds on what a request may carry, where the API's schemas and the pages' forms take the
same thing: both refuse the same input, so neither is the way round the other's limit.

A voucher token is a compact JWS of a few hundred bytes; one past `MAX_TOKEN` characters is
refused before anything decodes it.
"""

from __future__ import annotations

MAX_TOKEN = 4096
