"""
LoRA for our Qwen3 (model.py), saved in Hugging Face PEFT's format so an adapter trained here also
loads with `PeftModel.from_pretrained(Qwen3ForCausalLM..., folder)`:

    adapter_config.json          {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout", "target_modules", ...}
    adapter_model.safetensors    base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight [r, in]
                                 base_model.model.model.layers.{i}.self_attn.q_proj.lora_B.weight [out, r]

    lora = apply_lora(model, rank=8, alpha=32, dropout=0.1, targets=("q_proj", "v_proj"))
    ...train (only the lora_A / lora_B weights require grad)...
    save_adapter(model, "out/adapter", base="Qwen3-0.6B")
    merge_lora_(model)            # W += (alpha / r) * B @ A; plain nn.Linear again, HF names

Same maths as PEFT's Linear: y = W x + (alpha / r) * B(A(dropout(x))), A initialised with
kaiming_uniform(a=sqrt(5)) and B with zeros, so training starts from the base model exactly.
"""
import json
import math
import os

import torch
import torch.nn as nn

from tensor_file import save_file, SafetensorsFile

LINEAR_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
DEFAULT_TARGETS = ("q_proj", "v_proj")
PEFT_PREFIX = "base_model.model."
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


class AdapterError(Exception):
    """An adapter folder that does not fit the model (names, shapes, options)."""


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update (PEFT's parameter names)."""

    def __init__(self, base_layer, rank, alpha, dropout):
        super().__init__()
        self.base_layer = base_layer
        self.base_layer.weight.requires_grad_(False)
        self.rank, self.alpha = rank, alpha
        self.scaling = alpha / rank
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        w = base_layer.weight
        self.lora_A = nn.Linear(base_layer.in_features, rank, bias=False).to(torch.float32)
        self.lora_B = nn.Linear(rank, base_layer.out_features, bias=False).to(torch.float32)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.lora_A.to(w.device)
        self.lora_B.to(w.device)

    @property
    def weight(self):
        return self.base_layer.weight

    def forward(self, x):
        out = self.base_layer(x)
        delta = self.lora_B(self.lora_A(self.lora_dropout(x.to(self.lora_A.weight.dtype))))
        return out + (delta * self.scaling).to(out.dtype)

    def merged_weight(self):
        """W + scaling * B @ A in float32 (whatever the base dtype), as PEFT's merge."""
        w = self.base_layer.weight.detach().float()
        return w + self.scaling * (self.lora_B.weight.detach().float() @ self.lora_A.weight.detach().float())


def parse_targets(spec):
    """'q_proj,v_proj' or 'all' -> tuple of linear layer names; unknown names are an error."""
    names = LINEAR_NAMES if spec.strip() == "all" else tuple(t.strip() for t in spec.split(",") if t.strip())
    bad = [t for t in names if t not in LINEAR_NAMES]
    if bad or not names:
        raise AdapterError(f"LoRA targets {bad or spec!r}: choose from {', '.join(LINEAR_NAMES)} or 'all'")
    return names


def _target_modules(model, targets):
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in targets and isinstance(module, nn.Linear):
            yield name, module


def _set_module(model, name, module):
    parent_name, leaf = name.rsplit(".", 1)
    setattr(model.get_submodule(parent_name), leaf, module)


def apply_lora(model, rank=8, alpha=32, dropout=0.1, targets=DEFAULT_TARGETS):
    """Freezes every weight of MODEL and wraps each targeted nn.Linear in a LoRALinear; returns
    {module name: LoRALinear}. Remembers the options on the model for save_adapter."""
    if rank < 1:
        raise AdapterError(f"LoRA rank must be >= 1 (got {rank})")
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = {}
    for name, module in list(_target_modules(model, tuple(targets))):
        lora = LoRALinear(module, rank, alpha, dropout)
        _set_module(model, name, lora)
        wrapped[name] = lora
    if not wrapped:
        raise AdapterError(f"no nn.Linear named {', '.join(targets)} in the model")
    model.lora_options = {"r": rank, "lora_alpha": alpha, "lora_dropout": dropout,
                          "target_modules": sorted(set(targets))}
    return wrapped


def lora_modules(model):
    return {n: m for n, m in model.named_modules() if isinstance(m, LoRALinear)}


def adapter_state_dict(model):
    """{PEFT key: tensor} of the LoRA weights (PEFT drops the adapter name 'default' on save)."""
    out = {}
    for name, m in lora_modules(model).items():
        out[f"{PEFT_PREFIX}{name}.lora_A.weight"] = m.lora_A.weight.detach().float().contiguous()
        out[f"{PEFT_PREFIX}{name}.lora_B.weight"] = m.lora_B.weight.detach().float().contiguous()
    return out


def save_adapter(model, folder, base=None):
    """Writes FOLDER/adapter_config.json and FOLDER/adapter_model.safetensors (PEFT 0.x layout)."""
    opts = getattr(model, "lora_options", None)
    if not opts:
        raise AdapterError("the model has no LoRA layers (apply_lora first)")
    os.makedirs(folder, exist_ok=True)
    config = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base, "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
        "layers_pattern": None, "layers_to_transform": None, "lora_alpha": opts["lora_alpha"],
        "lora_dropout": opts["lora_dropout"], "modules_to_save": None, "peft_type": "LORA",
        "r": opts["r"], "rank_pattern": {}, "revision": None, "target_modules": opts["target_modules"],
        "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False,
    }
    with open(os.path.join(folder, ADAPTER_CONFIG), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    save_file(adapter_state_dict(model), os.path.join(folder, ADAPTER_WEIGHTS), metadata={"format": "pt"})


def load_adapter(model, folder):
    """Applies the PEFT adapter in FOLDER to MODEL (unmerged, dropout off); returns its config."""
    cfg_path = os.path.join(folder, ADAPTER_CONFIG)
    w_path = os.path.join(folder, ADAPTER_WEIGHTS)
    for path in (cfg_path, w_path):
        if not os.path.exists(path):
            raise AdapterError(f"{path}: missing (a PEFT adapter folder holds {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS})")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("peft_type") != "LORA":
        raise AdapterError(f"{cfg_path}: peft_type {cfg.get('peft_type')!r} is not LORA")
    unsupported = [k for k in ("use_dora", "use_rslora", "fan_in_fan_out") if cfg.get(k)] + \
        [k for k in ("rank_pattern", "alpha_pattern") if cfg.get(k)]
    if cfg.get("bias", "none") != "none":
        unsupported.append("bias")
    if unsupported:
        raise AdapterError(f"{cfg_path}: options not supported here: {', '.join(unsupported)}")
    targets = cfg["target_modules"]
    targets = [targets] if isinstance(targets, str) else targets
    apply_lora(model, cfg["r"], cfg["lora_alpha"], 0.0, parse_targets(",".join(targets)))
    st = SafetensorsFile(w_path)
    expected = adapter_state_dict(model)
    missing, unexpected = sorted(set(expected) - set(st.keys())), sorted(set(st.keys()) - set(expected))
    if missing or unexpected:
        raise AdapterError(f"{w_path}: keys do not match the model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    mods = lora_modules(model)
    with torch.no_grad():
        for key in expected:
            name, which = key[len(PEFT_PREFIX):].rsplit(".", 2)[0], key.rsplit(".", 2)[1]
            param = getattr(mods[name], which).weight
            t = st.get(key)
            if list(t.shape) != list(param.shape):
                raise AdapterError(f"{w_path}: {key} has shape {list(t.shape)}, the model needs {list(param.shape)}")
            param.copy_(t)
    return cfg


@torch.no_grad()
def merge_lora_(model):
    """Folds every LoRA update into its base weight (in the base's dtype) and puts the plain
    nn.Linear back, so state_dict() has Hugging Face names again. Returns the model."""
    for name, m in lora_modules(model).items():
        base = m.base_layer
        base.weight.copy_(m.merged_weight().to(base.weight.dtype))
        _set_module(model, name, base)
    if hasattr(model, "lora_options"):
        del model.lora_options
    return model
