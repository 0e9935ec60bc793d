"""Golden fixtures for I3, the BERT encoder and the ELECTRA discriminator (run by hand, never in CI).

Reference: transformers' BertForMaskedLM and ElectraForPreTraining (sdpa attention), float64, dropout 0.
A tiny model of each is built with a seeded init (every parameter N(0, 0.3²), LayerNorm weights 1 + N(0, 0.1²),
so no gradient is trivially zero), run on a batch with padding (row 1 ends in 3 padding positions, attention_mask 0,
token type ids mixing 0 and 1; real tokens avoid id 0, the [PAD] id, whose embedding row HF never updates
(padding_idx) while Tessera's table has no such row), and everything is written, with Hugging Face's parameter names, to
models/src/test/resources/golden/i3/{bert,electra}.safetensors:
  <parameter name>       the weights (tied copies left out: cls.predictions.decoder.* is the word table and the bias)
  input_ids, attention_mask, token_type_ids  (B, T) I64
  labels                 bert: MLM labels, -100 where no loss; electra: 0/1 replaced-token labels
  logits                 bert (B, T, V); electra (B, T)
  loss                   (1,) bert: as the model returns it (mean cross-entropy over labelled positions); electra: HF's mean
                         BCE with logits over attended positions, recomputed in float64 (HF casts the labels to float32)
  grad.<parameter name>  the gradient of the loss for every parameter
The script also round-trips the bert weights through save_pretrained/from_pretrained to show the names load strictly.

    ~/venvs/peers/bin/python models/tools/golden_i3_bert.py
"""
import sys
import tempfile
from pathlib import Path

sys.modules["torchvision"] = None  # the venv's torchvision is built for another torch; transformers does not need it here

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import BertConfig, BertForMaskedLM, ElectraConfig, ElectraForPreTraining  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "src" / "test" / "resources" / "golden" / "i3"
V, T, B, C, L, NH, FF = 24, 10, 2, 16, 2, 2, 24
SIZES = dict(vocab_size=V, hidden_size=C, num_hidden_layers=L, num_attention_heads=NH, intermediate_size=FF,
             max_position_embeddings=16, type_vocab_size=2, layer_norm_eps=1e-12, hidden_act="gelu",
             hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, attn_implementation="sdpa")


def perturb(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float64)
            p.copy_(1 + 0.1 * noise if name.endswith("LayerNorm.weight") else 0.3 * noise)


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, V, (B, T), generator=g)  # real tokens avoid [PAD] = 0: HF never updates the padding_idx row, Tessera has none
    mask = torch.ones(B, T, dtype=torch.int64)
    mask[1, T - 3:] = 0
    ids[1, T - 3:] = 0  # [PAD]
    types = torch.zeros(B, T, dtype=torch.int64)
    types[:, T // 2:] = 1
    return ids, mask, types


def dump(model, tensors, loss, path):
    loss.backward()
    for name, p in model.named_parameters():
        tensors[name] = p.detach().clone()
        tensors["grad." + name] = p.grad.detach().clone()
    tensors["loss"] = loss.detach().reshape(1)
    meta = {"torch": torch.__version__, "transformers": transformers.__version__}
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)


def bert():
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(**SIZES)).double()
    perturb(model, 1)
    ids, mask, types = batch(2)
    g = torch.Generator().manual_seed(3)
    labels = torch.where(torch.rand(B, T, generator=g) < 0.5, torch.randint(0, V, (B, T), generator=g), torch.tensor(-100))
    labels[0, 0] = 5  # at least one labelled position
    labels[mask == 0] = -100
    out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
    tensors = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels, "logits": out.logits.detach()}
    dump(model, tensors, out.loss, OUT / "bert.safetensors")
    with tempfile.TemporaryDirectory() as d:  # our names are what transformers saves and loads
        model.save_pretrained(d)
        again, info = BertForMaskedLM.from_pretrained(d, output_loading_info=True)
        assert not info["missing_keys"] and not info["unexpected_keys"], info


def electra():
    torch.manual_seed(0)
    model = ElectraForPreTraining(ElectraConfig(embedding_size=C, **SIZES)).double()
    perturb(model, 4)
    ids, mask, types = batch(5)
    g = torch.Generator().manual_seed(6)
    labels = (torch.rand(B, T, generator=g) < 0.3).to(torch.int64)
    out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
    # HF casts the labels to float32, so its loss is float32-exact only; the same BCE on the attended positions in float64
    active = mask == 1
    loss = torch.nn.functional.binary_cross_entropy_with_logits(out.logits[active], labels[active].to(torch.float64))
    assert abs(loss.item() - out.loss.item()) < 1e-6, (loss.item(), out.loss.item())
    tensors = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels, "logits": out.logits.detach()}
    dump(model, tensors, loss, OUT / "electra.safetensors")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    bert()
    electra()
    print("wrote", OUT)
