"""A scheduler process for tests: at a given instant, run one leased job, and say whether it ran.

python -m tests.integration.job_process DATABASE_URL KEYS_DIR START_AT JOB
"""

from __future__ import annotations

import sys
import time

from voucher_app import create_app, jobs
from voucher_app.wiring import Wiring, current

JOBS = {"vouchers.expire": jobs.expire_vouchers}


def main(database_url: str, keys_dir: str, start_at: str, job: str, mode: str) -> None:
    app = create_app("testing", {"DATABASE_URL": database_url, "KEYS_DIR": keys_dir})
    ran: list[bool] = []

    def work(parts: Wiring) -> None:
        ran.append(True)
        JOBS[job](parts)

    leased = jobs.leased(app, job, 300, work, jobs.holder_name())
    time.sleep(max(0.0, float(start_at) - time.time()))
    if mode == "leased":
        leased()
    else:
        with app.app_context():
            work(current())
    print("RAN" if ran else "SKIPPED")


if __name__ == "__main__":
    main(*sys.argv[1:6])
