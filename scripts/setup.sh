#!/usr/bin/env bash
# Installs what Pneumo needs on a fresh Debian machine (run as root): oneDNN 3.2 (Intel's build from
# PyPI, into /usr/local), the Debian -dev packages, and the small Python peers the tests compare with.
set -euo pipefail

if dpkg -s libdnnl-dev >/dev/null 2>&1; then
    # Debian's oneDNN 2.6 beside Intel's 3.2 would be picked by the linker first.
    echo "setup: removing Debian's libdnnl-dev (oneDNN 2.6), which conflicts with oneDNN 3.2" >&2
    apt-get remove -y libdnnl-dev
fi

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zlib1g-dev libgomp1 libcurl4 libpng-dev libjpeg62-turbo-dev >/dev/null
# Headless Chromium renders the report in a test; without it that test skips.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || echo "setup: chromium not installed; the report's browser test will skip" >&2

# pip, where the machine has none (plain Debian).
python3 -m pip --version >/dev/null 2>&1 \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
# Debian's own python3 refuses pip installs (PEP 668, an EXTERNALLY-MANAGED marker). The oneDNN wheel only puts
# a library and headers under /usr/local, touching no Python package, so it alone is installed past the marker.
ONEDNN_PIP=(python3 -m pip install --quiet --prefix /usr/local)
if [ -f "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" ]; then
    ONEDNN_PIP+=(--break-system-packages)
fi
# Installed (again, files and all) unless /usr/local holds a oneDNN 3.x library no older than its headers, then
# checked (check_onednn.py prints both versions): Pneumo refuses at start-up to run on another.
CHECK_ONEDNN=(python3 "$(dirname "$0")/check_onednn.py")
if ! "${CHECK_ONEDNN[@]}" >/dev/null 2>&1; then
    "${ONEDNN_PIP[@]}" --force-reinstall onednn-cpu-gomp==2023.2.0 onednn-devel-cpu-gomp==2023.2.0
fi
ldconfig
"${CHECK_ONEDNN[@]}" || {
    echo "setup: oneDNN 3.2 (onednn-cpu-gomp==2023.2.0) did not install into /usr/local as expected; remove /usr/local/lib/libdnnl.so* and /usr/local/include/dnnl*.h and /usr/local/include/oneapi/dnnl, then run this script again" >&2
    exit 1
}

# Test peers (the tests skip cleanly without them).
pip install --quiet numpy onnx onnxruntime safetensors "tritonclient[http]" || echo "setup: Python test peers not installed; their tests will skip" >&2
# wrk drives bench/serve_load.sh (a benchmark, not a test).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null || echo "setup: wrk not installed; bench/serve_load.sh needs it" >&2
