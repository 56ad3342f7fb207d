#!/usr/bin/env python3
"""Checks the oneDNN library Pneumo will load (its rpath puts /usr/local/lib first) against the headers it builds
with: the library must be oneDNN 3.x and no older than the headers (Pneumo's start-up check refuses anything else).
Prints the versions; exits 1, saying what to do, when they do not fit. Standard library only (run by setup.sh).

    python3 scripts/check_onednn.py [--lib /usr/local/lib/libdnnl.so.3] [--headers /usr/local/include/oneapi/dnnl/dnnl_version.h]
"""
import argparse, ctypes, re, sys


class Version(ctypes.Structure):
    # The leading fields of dnnl_version_t (dnnl_common_types.h), which every 3.x release keeps.
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lib", default="/usr/local/lib/libdnnl.so.3")
    p.add_argument("--headers", default="/usr/local/include/oneapi/dnnl/dnnl_version.h")
    a = p.parse_args()
    fix = "install it with `bash scripts/setup.sh` (as root)"
    try:
        lib = ctypes.CDLL(a.lib)
        lib.dnnl_version.restype = ctypes.POINTER(Version)
        v = lib.dnnl_version().contents
    except (OSError, AttributeError) as e:
        sys.exit(f"check_onednn: {a.lib} is not a loadable oneDNN library ({e}); {fix}")
    try:
        text = open(a.headers).read()
        header = [int(re.search(rf"^#define DNNL_VERSION_{k} (\d+)", text, re.M).group(1)) for k in ("MAJOR", "MINOR", "PATCH")]
    except (OSError, AttributeError) as e:
        sys.exit(f"check_onednn: cannot read the oneDNN version from {a.headers} ({e}); {fix}")
    found, wanted = f"{v.major}.{v.minor}.{v.patch}", ".".join(map(str, header))
    if header[0] != 3 or v.major != 3 or v.minor < header[1]:
        sys.exit(f"check_onednn: {a.lib} is oneDNN {found}, headers {a.headers} are {wanted}; Pneumo needs oneDNN 3.x, "
                 f"the library no older than the headers; {fix}")
    print(f"check_onednn: oneDNN {found} ({a.lib}), headers {wanted}: fine")


if __name__ == "__main__":
    main()
