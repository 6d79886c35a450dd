"""The app under test for the browser suite: the real ``app:app`` served by uvicorn over HTTPS, in its own
process, with one test-only change made here and not in the product: the case rules' clock
(``tenants.calendar.today_in_china``, the only clock they read) answers the day written in the file named by
ZHICHENG_TEST_TODAY_FILE, so a test can move the server to the reissue batch day (the 25th) and back.

Usage: python tests/browser/serve_app.py PORT CERTFILE KEYFILE (environment as for ``zhicheng serve``).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from tenants import calendar

_real_today = calendar.today_in_china
_today_file = Path(os.environ["ZHICHENG_TEST_TODAY_FILE"])


def pinned_today() -> date:
    try:
        text = _today_file.read_text().strip()
    except FileNotFoundError:
        text = ""
    return date.fromisoformat(text) if text else _real_today()


calendar.today_in_china = pinned_today


def main() -> None:
    import uvicorn

    from cli import check_keys

    port, certfile, keyfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    check_keys()
    uvicorn.run(
        "app:app",
        host="127.0.0.1",
        port=port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
