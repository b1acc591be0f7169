"""Run the ported suites and print the pass rate per suite: python tests/ported/run.py [-x ...]."""
import os
import pathlib
import sys

import pytest

if __name__ == "__main__":
    here = pathlib.Path(__file__).resolve().parent
    os.environ["TINYGRAD_EDU_PORTED"] = "1"
    sys.path.insert(0, str(here.parents[1]))
    sys.exit(pytest.main([str(here), "-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
