"""
Minimal .safetensors reader/writer (the `safetensors` package is not available here). Library:

    /usr/bin/python3 -c "import sys; sys.path.insert(0, 'training'); from safetensors import load_file"

Format: 8-byte little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor bytes (offsets relative to the end of the header).
"""
import json
import struct

import numpy as np
import torch

# safetensors dtype <-> torch dtype. BF16 has no numpy dtype: it goes through int16 bytes.
DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
_SAME_SIZE_INT = {torch.bfloat16: torch.int16, torch.float16: torch.int16}


def _to_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype in _SAME_SIZE_INT:
        t = t.view(_SAME_SIZE_INT[t.dtype])
    # NOTE: numpy writes native byte order; every machine we run on is little-endian.
    return t.numpy().tobytes()


def _from_bytes(buf, dtype, shape):
    if dtype in _SAME_SIZE_INT:
        arr = np.frombuffer(buf, dtype=np.int16).copy()
        return torch.from_numpy(arr).view(dtype).reshape(shape)
    np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    return torch.from_numpy(np.frombuffer(buf, dtype=np_dtype).copy()).reshape(shape)


def save_file(tensors, path, metadata=None):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name]
        data = _to_bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # pad so tensor data starts 8-byte aligned (as the reference writer)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)), 8 + n


def load_file(path):
    """{name: torch.Tensor}; the metadata is in read_header(path)[0]["__metadata__"]."""
    header, start = read_header(path)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = _from_bytes(data[b:e], DTYPES[info["dtype"]], info["shape"])
    return out
