# Sourced by the serving benchmarks (serve_load.sh, serve_ab.sh): the single-image `infer` request wrk sends.
#
#     write_infer_request DIR json|binary    # writes DIR/body and DIR/post.lua (wrk's script, reading DIR/body)
#
# The image is 784 seeded normal values (PneumoNet at 28 px, 1 channel, input "image"), as JSON numbers, or as the
# binary tensor data extension's raw little-endian floats after a JSON header.
write_infer_request() {
    local dir=$1 kind=$2 header_length
    header_length=$(python3 - "$dir/body" "$kind" <<'PY'
import json, random, struct, sys
random.seed(0)
values = [round(random.gauss(0, 1), 4) for _ in range(784)]
if sys.argv[2] == "binary":
    header = json.dumps({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 4 * len(values)}}]}).encode()
    open(sys.argv[1], "wb").write(header + struct.pack("<%df" % len(values), *values))
    print(len(header))
else:
    open(sys.argv[1], "w").write(json.dumps({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32",
                                                         "data": values}]}))
    print(0)
PY
)
    cat > "$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if $header_length > 0 then wrk.headers["Inference-Header-Content-Length"] = "$header_length" end
wrk.body = io.open("$dir/body", "rb"):read("*a")
LUA
}
