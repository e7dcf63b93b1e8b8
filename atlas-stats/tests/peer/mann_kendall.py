"""Peer values for tests/peer.rs: PyPI pymannkendall's original Mann-Kendall test.

Reads {"series": [[...], ...]}, writes {"results": [{"s", "var_s", "z", "p",
"tau", "slope"}]} from pymannkendall.original_test(series).
"""

import json
import sys

import numpy as np
import pymannkendall as mk

with open(sys.argv[1]) as f:
    series = json.load(f)["series"]
results = []
for x in series:
    r = mk.original_test(np.asarray(x, dtype=float))
    results.append(
        {
            "s": float(r.s),
            "var_s": float(r.var_s),
            "z": float(r.z),
            "p": float(r.p),
            "tau": float(r.Tau),
            "slope": float(r.slope),
        }
    )
with open(sys.argv[2], "w") as f:
    json.dump({"results": results}, f)
