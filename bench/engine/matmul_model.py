"""Writes the fp32 MatMul model the benchmark uses to measure the GFLOP/s ceiling.

    /usr/bin/python3 bench/engine/matmul_model.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

M, K, N = 64, 1024, 4096  # keep in sync with CEILING_SHAPE in ceiling.ts

weights = np.random.default_rng(0).standard_normal((K, N)).astype(np.float32) / 32
graph = helper.make_graph(
    [helper.make_node("MatMul", ["a", "b"], ["c"])],
    "ceiling",
    [helper.make_tensor_value_info("a", TensorProto.FLOAT, [M, K])],
    [helper.make_tensor_value_info("c", TensorProto.FLOAT, [M, N])],
    [numpy_helper.from_array(weights, "b")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
model.ir_version = 8
onnx.save(model, sys.argv[1])
