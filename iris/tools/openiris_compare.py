"""Side-by-side timing of open-iris' HammingDistanceMatcher and ours on the
same pairs of iris codes. Not part of the test run.

    python3 -m venv .venv-openiris && .venv-openiris/bin/pip install open-iris
    cargo run -p iris --release --example export_codes -- /tmp/codes 40
    .venv-openiris/bin/python iris/tools/openiris_compare.py /tmp/codes

Our 2,048-bit templates (8 rows x 128 columns x 2 phase bits) become
one-filter open-iris IrisTemplates of shape (8, 128, 2); both matchers try
the same +-7 column shifts (15 rotations). open-iris runs with its defaults
otherwise (normalised HD, separate upper/lower half matching), and once more
with plain HD (normalise=False, separate_half_matching=False) to check that
the two agree on the raw distances.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
from iris import HammingDistanceMatcher, IrisTemplate

ROWS, COLS = 8, 128


def main() -> None:
    d = Path(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ours = json.loads((d / "ours.json").read_text())
    n = ours["n"]
    codes = np.fromfile(d / "codes.u8", dtype=np.uint8).reshape(n, ROWS, COLS, 2).astype(bool)
    masks = np.fromfile(d / "masks.u8", dtype=np.uint8).reshape(n, ROWS, COLS, 2).astype(bool)
    tpl = [
        IrisTemplate(iris_codes=[codes[i]], mask_codes=[masks[i]], iris_code_version="v0.1")
        for i in range(n)
    ]
    pairs = [tuple(p) for p in ours["pairs"]]
    shift = ours["shift_cols"]
    results = {}
    for name, m in [
        ("default", HammingDistanceMatcher(rotation_shift=shift)),
        ("plain", HammingDistanceMatcher(rotation_shift=shift, normalise=False, separate_half_matching=False)),
    ]:
        scores = [m.run(tpl[i], tpl[j]) for i, j in pairs]  # warm-up, and the scores
        t0 = time.perf_counter()
        for _ in range(repeats):
            for i, j in pairs:
                m.run(tpl[i], tpl[j])
        ns = (time.perf_counter() - t0) * 1e9 / (repeats * len(pairs))
        results[name] = (ns, np.array(scores))
    ns_ours = ours["ns_per_compare"]
    print(f"pairs: {len(pairs)} ({n} templates, 2,048 bits, shifts +-{shift} columns)")
    print(f"ours ({ours['kernel']}): {ns_ours / 1e3:.2f} us per comparison")
    for name, (ns, _) in results.items():
        print(f"open-iris {name}: {ns / 1e3:.1f} us per comparison -> ours is {ns / ns_ours:.0f}x faster")
    # Sanity: open-iris' plain HD (min raw HD over shifts) vs our raw distance
    # at our best (normalised) shift, which can only be >= the minimum.
    plain = results["plain"][1]
    raw = np.array(ours["raw_distance"])
    print(f"raw HD agreement: max |ours - open-iris plain| = {np.max(np.abs(raw - plain)):.4f}, "
          f"ours >= theirs - 1e-6 in {np.mean(raw >= plain - 1e-6) * 100:.1f} % of pairs, "
          f"correlation of default scores {np.corrcoef(np.array(ours['distance']), results['default'][1])[0, 1]:.3f}")


if __name__ == "__main__":
    main()
