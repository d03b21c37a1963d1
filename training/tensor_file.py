"""
Minimal .safetensors reader/writer (the `safetensors` package is not available here). Library:

    /usr/bin/python3 -c "import sys; sys.path.insert(0, 'training'); from tensor_file import load_file"

NOTE: named tensor_file, not safetensors: with training/ on sys.path a module called safetensors
would shadow the PyPI package for anything that imports it later (transformers does).

Format: 8-byte little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor bytes (offsets relative to the end of the header).

Reading is per tensor (SafetensorsFile.get seeks to the tensor's bytes), and writing can stream
(write_file asks a callback for one tensor at a time), so a 1.2 GB checkpoint never sits in
memory twice.
"""
import json
import os
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
_MAX_HEADER = 100 * 2**20  # the reference implementation refuses headers over 100 MB too


class SafetensorsError(ValueError):
    """A file that is not valid safetensors (truncated, bad header, unknown dtype)."""


def element_size(dtype):
    return torch.empty(0, dtype=dtype).element_size()


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


def write_file(path, specs, produce, metadata=None):
    """Streaming writer. specs: [(name, torch dtype, shape)]; produce(name) returns that tensor
    (called once per name, in sorted name order, after the header is written), so only one
    tensor needs to exist at a time."""
    header, offset, order = {}, 0, []
    for name, dtype, shape in sorted(specs, key=lambda s: s[0]):
        n = int(np.prod(shape, dtype=np.int64)) * element_size(dtype)
        header[name] = {"dtype": NAMES[dtype], "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
        order.append((name, dtype, tuple(shape)))
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # pad so tensor data starts 8-byte aligned (as the reference writer)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for name, dtype, shape in order:
            t = produce(name)
            if t.dtype != dtype or tuple(t.shape) != shape:
                raise SafetensorsError(f"{name}: produced {t.dtype} {list(t.shape)}, "
                                       f"header says {dtype} {list(shape)}")
            f.write(_to_bytes(t))


def save_file(tensors, path, metadata=None):
    write_file(path, [(k, t.dtype, tuple(t.shape)) for k, t in tensors.items()],
               lambda name: tensors[name], metadata)


def read_header(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise SafetensorsError(f"{path}: {size} bytes, too short for a safetensors header")
        (n,) = struct.unpack("<Q", raw)
        if n > _MAX_HEADER or 8 + n > size:
            raise SafetensorsError(f"{path}: header length {n} does not fit the {size}-byte file")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise SafetensorsError(f"{path}: header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    return header, 8 + n


class SafetensorsFile:
    """Lazy reader: the header up front, each tensor's bytes only when asked for."""

    def __init__(self, path):
        self.path = path
        self.header, self.start = read_header(path)
        self.metadata = self.header.pop("__metadata__", None) or {}
        data_size = os.path.getsize(path) - self.start
        for name, info in self.header.items():
            if info.get("dtype") not in DTYPES:
                raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')!r}")
            b, e = info["data_offsets"]
            expect = int(np.prod(info["shape"], dtype=np.int64)) * element_size(DTYPES[info["dtype"]])
            if not (0 <= b <= e <= data_size) or e - b != expect:
                raise SafetensorsError(f"{path}: tensor {name} bytes [{b}, {e}) do not match its "
                                       f"shape {info['shape']} or the file size (truncated file?)")

    def keys(self):
        return list(self.header)

    def shape(self, name):
        return list(self.header[name]["shape"])

    def dtype(self, name):
        return DTYPES[self.header[name]["dtype"]]

    def get(self, name):
        info = self.header[name]
        b, e = info["data_offsets"]
        with open(self.path, "rb") as f:
            f.seek(self.start + b)
            buf = f.read(e - b)
        return _from_bytes(buf, DTYPES[info["dtype"]], info["shape"])


def load_file(path):
    """{name: torch.Tensor}; the metadata is in read_header(path)[0]["__metadata__"]."""
    st = SafetensorsFile(path)
    return {name: st.get(name) for name in st.keys()}
