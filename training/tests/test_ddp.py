"""
train.py --init-from FOLDER (LoRA) under torchrun: 2 CPU processes (DDP, gloo) give the loss curve
and the adapter of 1 process with the same global batch. Run from the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from tensor_file import load_file  # noqa: E402
from test_finetune import tiny_folder  # noqa: E402
from test_train import write_dataset  # noqa: E402

TRAIN = os.path.join(HERE, "..", "train.py")


def run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="1", GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class TestTorchrun(unittest.TestCase):
    @unittest.skipUnless(torch.distributed.is_available() and torch.distributed.is_gloo_available(),
                         "torch without gloo")
    def test_two_processes_match_one(self):
        with tempfile.TemporaryDirectory() as d:
            write_dataset(d, n=30)
            base = tiny_folder(os.path.join(d, "base"), dtype=torch.bfloat16, initializer_range=0.3)
            # LoRA dropout draws from each process's own RNG stream, so it is off here; token
            # dropout is drawn alike by every process for the whole global batch and stays on.
            common = ["--init-from", base, "--data", d, "--steps", "6", "--batch-size", "8", "--lr", "1e-2",
                      "--warmup", "1", "--lora-dropout", "0", "--token-drop", "0.25", "--threads", "1",
                      "--lora-targets", "q_proj,v_proj,up_proj", "--eval-splits", "", "--log-every", "1"]
            one = os.path.join(d, "one")
            two = os.path.join(d, "two")
            run([sys.executable, TRAIN, "--out", one] + common)
            # NOTE: --redirects/--tee 1 (stdout) because torch 1.13's launcher turns the default "0"
            # into None under Python 3.11 (IntFlag no longer iterates its zero member) and fails.
            out = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                       "--redirects", "1", "--tee", "1", TRAIN, "--out", two] + common)
            self.assertIn("on 2 process(es), cpu", out)
            log1 = json.load(open(os.path.join(one, "train_log.json")))
            log2 = json.load(open(os.path.join(two, "train_log.json")))
            self.assertEqual((log1["world_size"], log2["world_size"]), (1, 2))
            loss1 = [s["loss"] for s in log1["steps"]]
            loss2 = [s["loss"] for s in log2["steps"]]
            self.assertEqual(len(loss1), 6)
            self.assertLess(loss1[-1], loss1[0])  # it learns, so the curves compare something
            for step, (a, b) in enumerate(zip(loss1, loss2)):
                self.assertAlmostEqual(a, b, delta=1e-4 * abs(a), msg=f"step {step + 1}: {loss1} vs {loss2}")
            w1 = load_file(os.path.join(one, "adapter", "adapter_model.safetensors"))
            w2 = load_file(os.path.join(two, "adapter", "adapter_model.safetensors"))
            self.assertEqual(set(w1), set(w2))
            for k in w1:
                self.assertTrue(torch.allclose(w1[k], w2[k], atol=1e-4, rtol=1e-3), k)


if __name__ == "__main__":
    unittest.main()
