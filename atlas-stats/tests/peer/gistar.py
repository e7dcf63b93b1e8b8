"""Peer values for tests/peer.rs: PyPI esda's analytic Gi* z-scores.

Reads {"cases": [{"values": [...], "neighbours": [[j, ...], ...]}]} where the
neighbour lists do NOT include the cell itself (esda adds the self-weight 1
for star=True with binary weights), writes {"z": [[...]], "p": [[...]]} with
G_Local(star=True, transform="B").Zs and its two-sided normal p-value.
"""

import json
import sys
import warnings

import numpy as np
from esda.getisord import G_Local
from libpysal.weights import W

warnings.simplefilter("ignore")

with open(sys.argv[1]) as f:
    cases = json.load(f)["cases"]
out = {"z": [], "p": []}
for case in cases:
    neighbours = {i: list(js) for i, js in enumerate(case["neighbours"])}
    w = W(neighbours, silence_warnings=True)
    g = G_Local(np.asarray(case["values"], dtype=float), w, transform="B", star=True, permutations=0)
    out["z"].append([float(z) for z in g.Zs])
    # esda's p_norm is one-sided (norm.sf(|z|)); the atlas uses two-sided.
    out["p"].append([float(2 * p) for p in g.p_norm])
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
