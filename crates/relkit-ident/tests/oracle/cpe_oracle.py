"""CPE oracle: runs the PyPI `cpe` package (the NISTIR 7695/7696 reference implementation
in Python) on the names and pairs that tests/cpe_oracle.rs writes, one JSON object a line.

Input lines:  {"name": "cpe:2.3:..."}            -> parse + bind
              {"source": "...", "target": "..."} -> compare (both must parse)
Output lines: {"ok": true, "wfn": [11 values], "fs": "...", "uri": "..."} or {"ok": false}
              {"rel": [11 ints 1..5], "superset": b, "subset": b, "equal": b, "disjoint": b}
WFN values are "ANY", "NA" or the quoted WFN string without its double quotes.
"""
import json
import sys

from cpe.comp.cpecomp import CPEComponent
from cpe.cpe2_3_fs import CPE2_3_FS
from cpe.cpe2_3_uri import CPE2_3_URI
from cpe.cpe2_3_wfn import CPE2_3_WFN
from cpe.cpeset2_3 import CPESet2_3

KEYS = CPEComponent.CPE_COMP_KEYS_EXTENDED


def to_wfn(name):
    cls = CPE2_3_URI if name.lower().startswith("cpe:/") else CPE2_3_FS
    c = cls(name)
    return c, CPE2_3_WFN(c.as_wfn())


def values(w):
    out = []
    for k in KEYS:
        v = w.get_attribute_values(k)[0]
        out.append(v[1:-1] if v.startswith('"') else v)
    return out


def main():
    for line in sys.stdin:
        req = json.loads(line)
        if "name" in req:
            try:
                c, w = to_wfn(req["name"])
                res = {"ok": True, "wfn": values(w), "fs": c.as_fs(), "uri": c.as_uri_2_3()}
            except Exception:
                res = {"ok": False}
        else:
            s = to_wfn(req["source"])[1]
            t = to_wfn(req["target"])[1]
            res = {
                "rel": [r for _, r in CPESet2_3.compare_wfns(s, t)],
                "superset": CPESet2_3.cpe_superset(s, t),
                "subset": CPESet2_3.cpe_subset(s, t),
                "equal": CPESet2_3.cpe_equal(s, t),
                "disjoint": CPESet2_3.cpe_disjoint(s, t),
            }
        sys.stdout.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
