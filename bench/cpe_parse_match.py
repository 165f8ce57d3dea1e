"""Python twin of crates/relkit-ident/examples/parse_match.rs, using the PyPI `cpe`
package (the NISTIR 7695/7696 reference implementation): same names, same patterns."""
import sys

from cpe.cpe2_3_fs import CPE2_3_FS
from cpe.cpe2_3_uri import CPE2_3_URI
from cpe.cpe2_3_wfn import CPE2_3_WFN
from cpe.cpeset2_3 import CPESet2_3

PATTERNS = [
    "cpe:2.3:a:*:*:*:*:*:*:*:*:*:*",
    "cpe:2.3:a:tukaani:xz:5.6.*:*:*:*:*:*:*:*",
    "cpe:2.3:*:*:*:1.*:*:*:*:*:*:*:*",
]


def wfn(name):
    c = (CPE2_3_URI if name.lower().startswith("cpe:/") else CPE2_3_FS)(name)
    return c, CPE2_3_WFN(c.as_wfn())


def main():
    patterns = [wfn(p)[1] for p in PATTERNS]
    parsed = bad = matched = nbytes = 0
    with open(sys.argv[1]) as f:
        for line in f:
            try:
                c, w = wfn(line.rstrip("\n"))
            except Exception:
                bad += 1
                continue
            parsed += 1
            nbytes += len(c.as_fs())
            for p in patterns:
                if CPESet2_3.cpe_superset(p, w) or CPESet2_3.cpe_equal(p, w):
                    matched += 1
    print(f"parsed {parsed} invalid {bad} matched {matched} fs_bytes {nbytes}")


if __name__ == "__main__":
    main()
