"""Peer values for tests/peer.rs: PyPI jenkspy's Fisher-Jenks natural breaks.

Reads {"cases": [{"values": [...], "k": 4}]}, writes {"breaks": [[...]]} with
jenkspy.jenks_breaks(values, n_classes=k).
"""

import json
import sys

import jenkspy

with open(sys.argv[1]) as f:
    cases = json.load(f)["cases"]
breaks = [[float(b) for b in jenkspy.jenks_breaks(c["values"], n_classes=c["k"])] for c in cases]
with open(sys.argv[2], "w") as f:
    json.dump({"breaks": breaks}, f)
