"""What the JSON API (`api/`) and the pages (`web/`) share from HTTP, so that neither imports
the other: who is asking (`auth`), the access gate both ask (`policy`), the status a domain
error means (`errors`), security headers and rate limits keyed by use case (`hardening`),
uploaded files (`uploads`), files to download (`downloads`) and the bounds on what a request may
carry (`inputs`). It imports neither `api` nor `web` (import contracts in pyproject.toml).
"""
