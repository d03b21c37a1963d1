"""Writes the MatMul models the benchmark measures the GFLOP/s ceiling with.

    /usr/bin/python3 bench/engine/matmul_model.py OUT_DIR

- matmul.onnx: fp32 [64 x 1024] . [1024 x 4096], a prefill-sized product (the ceiling).
- matmulnbits.onnx: the same product with 4-bit weights (MatMulNBits, block 32, as q4 exports
  use) for 16 rows, about one message: how close the q4 kernel itself gets to the ceiling.
- matmulinteger.onnx: the same with 8-bit weights (uint8, zero point 128) and activations
  quantized on the fly (DynamicQuantizeLinear + MatMulInteger, as q8 exports use), 16 rows.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

K, N = 1024, 4096  # keep in sync with CEILING_SHAPES in ceiling.ts
BLOCK = 32
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def save(name, nodes, m, initializers):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, K])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, N])],
        initializers,
    )
    opsets = [helper.make_opsetid("", 14), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, os.path.join(out, f"{name}.onnx"))


weights = (rng.standard_normal((K, N)) / 32).astype(np.float32)
save("matmul", [helper.make_node("MatMul", ["a", "b"], ["c"])], 64,
     [numpy_helper.from_array(weights, "b")])

packed = rng.integers(0, 256, size=(N, K // BLOCK, BLOCK // 2), dtype=np.uint8)
scales = (rng.random((N, K // BLOCK)) / 100).astype(np.float32)
save("matmulnbits",
     [helper.make_node("MatMulNBits", ["a", "b", "s"], ["c"], domain="com.microsoft",
                       K=K, N=N, bits=4, block_size=BLOCK)],
     16,
     [numpy_helper.from_array(packed, "b"), numpy_helper.from_array(scales, "s")])

weights_q = rng.integers(1, 256, size=(K, N), dtype=np.uint8)  # int8 -127..127 + 128
weight_scale = (rng.random(N) / 100).astype(np.float32)
save("matmulinteger",
     [helper.make_node("DynamicQuantizeLinear", ["a"], ["aq", "as", "az"]),
      helper.make_node("MatMulInteger", ["aq", "bq", "az", "bz"], ["ci"]),
      helper.make_node("Cast", ["ci"], ["cf"], to=TensorProto.FLOAT),
      helper.make_node("Mul", ["cf", "as"], ["cs"]),
      helper.make_node("Mul", ["cs", "bs"], ["c"])],
     16,
     [numpy_helper.from_array(weights_q, "bq"), numpy_helper.from_array(np.array(128, np.uint8), "bz"),
      numpy_helper.from_array(weight_scale, "bs")])
