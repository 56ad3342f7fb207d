#!/usr/bin/env python3
"""Which ops the ONNX importer translates changed after opset 21, and how: for each new version of each op (up to
the installed onnx package's newest opset), the attributes and inputs added or removed and the lines of its
documentation that changed. What `ONNXImporter.supportedOpsets` claims about opsets 22–28 rests on this output.

    python3 scripts/onnx_opset_changes.py [--since 21]
"""

import argparse
import difflib

import onnx
import onnx.defs as defs

# ONNXImporter.supportedOps (Sources/ONNX/ONNXImporter.swift).
OPS = ["Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "DequantizeLinear", "Div",
       "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "MatMul", "MaxPool",
       "Mul", "Pad", "QuantizeLinear", "ReduceMean", "Relu", "Reshape", "Resize", "Shape", "Sigmoid", "Slice", "Softmax",
       "Squeeze", "Sub", "Swish", "Transpose", "Unsqueeze"]


def signature(schema):
    attributes = {name: (a.type, a.default_value.SerializeToString() if a.default_value else None)
                  for name, a in schema.attributes.items()}
    return attributes, [(i.name, i.option) for i in schema.inputs]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", type=int, default=21)
    args = parser.parse_args()
    newest = defs.onnx_opset_version()
    print(f"onnx {onnx.__version__}: opsets up to {newest}; changes after {args.since}")
    for op in OPS:
        try:
            base = defs.get_schema(op, args.since)
        except Exception:  # introduced later (Swish, opset 24)
            base = None
        for version in range(args.since + 1, newest + 1):
            schema = defs.get_schema(op, version)
            if schema.since_version != version:
                continue
            if base is None:
                print(f"{op} {version}: new op")
                base = schema
                continue
            (a0, i0), (a1, i1) = signature(base), signature(schema)
            added = sorted(set(a1) - set(a0))
            removed = sorted(set(a0) - set(a1))
            changed = sorted(k for k in set(a0) & set(a1) if a0[k] != a1[k])
            doc = [line for line in difflib.unified_diff(base.doc.splitlines(), schema.doc.splitlines(), lineterm="", n=0)
                   if line[:1] in "+-" and not line.startswith(("+++", "---"))]
            print(f"{op} {version}: attributes added {added} removed {removed} changed {changed}; "
                  f"inputs {'changed' if i0 != i1 else 'same'}; {len(doc)} documentation lines differ")
            for line in doc[:6]:
                print("    " + line[:150])
            base = schema


if __name__ == "__main__":
    main()
