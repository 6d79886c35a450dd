"""Child process of seals.services: captures one seal scan from stdin under core.sandbox limits and prints
the result as JSON (the stamp PNG base64-encoded) or the refusal."""

from __future__ import annotations

import base64
import dataclasses
import json
import sys

from core.sandbox import apply_limits


def main() -> None:
    apply_limits()
    from seals.capture import SealRejected, capture_seal

    try:
        captured = capture_seal(sys.stdin.buffer.read())
    except SealRejected as error:
        print(json.dumps({"error": str(error)}, ensure_ascii=False))
        return
    result = dataclasses.asdict(captured)
    result["png"] = base64.b64encode(captured.png).decode()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
