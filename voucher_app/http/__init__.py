"""What the JSON API (`api/`) and the pages (`web/`) share from HTTP, so that neither imports
the other: who is asking (`auth`), the access gate both ask (`policy`), the status a domain
error means (`errors`) and uploaded files (`uploads`).
"""
