"""Talks to a running `pneumo serve` with Triton's Python client (tritonclient[http]), a client no one here wrote.

    python3 Tests/ServeTests/triton_client_check.py --url 127.0.0.1:8000 --model pneumonet --input x.npy

Prints one JSON object: the server's liveness and readiness, the model's metadata as the client reads it, and
the model's outputs for the images in x.npy ([N, C, H, W] float32), sent as JSON tensors and as the client's default
binary tensors.
"""
import argparse
import json

import numpy as np
import tritonclient.http as httpclient


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True)
    args = parser.parse_args()

    client = httpclient.InferenceServerClient(url=args.url)
    metadata = client.get_model_metadata(args.model)
    x = np.load(args.input).astype(np.float32)
    request = httpclient.InferInput(metadata["inputs"][0]["name"], list(x.shape), "FP32")
    request.set_data_from_numpy(x, binary_data=False)
    wanted = httpclient.InferRequestedOutput(metadata["outputs"][0]["name"], binary_data=False)
    result = client.infer(args.model, inputs=[request], outputs=[wanted], request_id="triton-1")
    y = result.as_numpy(metadata["outputs"][0]["name"])
    # The client's defaults: tensors as binary after the JSON header (the binary tensor data extension), both ways.
    default_input = httpclient.InferInput(metadata["inputs"][0]["name"], list(x.shape), "FP32")
    default_input.set_data_from_numpy(x)
    default = client.infer(args.model, inputs=[default_input],
                           outputs=[httpclient.InferRequestedOutput(metadata["outputs"][0]["name"])])
    y_binary = default.as_numpy(metadata["outputs"][0]["name"])
    print(json.dumps({
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(args.model),
        "server": client.get_server_metadata(),
        "metadata": metadata,
        "id": result.get_response()["id"],
        "shape": list(y.shape),
        "outputs": [float(v) for v in y.ravel()],
        "binary_outputs": [float(v) for v in y_binary.ravel()],
    }))


if __name__ == "__main__":
    main()
