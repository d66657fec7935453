"""``python -m pairing``: read a request on stdin, print the plan; exit 2 on bad input."""

import sys

from pairing.model import RequestError
from pairing.request import plan_json


def main() -> int:
    """Run the ``fika plan`` pipeline on stdin/stdout."""
    try:
        sys.stdout.write(plan_json(sys.stdin.read()) + "\n")
    except RequestError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
