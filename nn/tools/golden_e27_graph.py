"""Golden fixture for E27 graph layers from torch_geometric 2.8.0.post1: GCNConv and TransformerConv,
read by GraphGoldenTest (GcnLayer, GraphTransformerLayer). GTN (Yun et al. 2019) has no reference
implementation in the peers venv and stays paper only.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e27_graph.py
Writes nn/src/test/resources/golden/E27/graph.safetensors (F64; weights in torch's (out, in) layout):
  x (N, in), edge_index (2, E) int64   a seeded duplicate-free graph: node 0 and node 5 have no
                                       in-edges, node 2 has a self loop 2 -> 2
  gcn.lin.weight, gcn.bias             GCNConv(in, 4, normalize=True, add_self_loops=True, bias=True)
  gcn.out_weight                       w, the loss is L = sum(out * w)
  gcn.out, gcn.grad.x, gcn.grad.lin.weight, gcn.grad.bias
                                       GCNConv's defaults: add_remaining_self_loops keeps the existing
                                       loop 2 -> 2 as node 2's only self loop
  gcn_paper.out, gcn_paper.grad.*      the same layer with add_self_loops=False on edge_index plus one
                                       loop i -> i for every node: Kipf & Welling's Ã = A + I (node 2
                                       counts two loops), which GcnLayer follows
  tc<c>.lin_{query,key,value,skip}.{weight,bias}, tc<c>.out_weight, tc<c>.out, tc<c>.grad.x,
  tc<c>.grad.<param>                   TransformerConv(in, 2, heads=2, concat=c, beta=False,
                                       root_weight=True, no edge features), c = 1 (concat) and 0 (mean)
"""
import os
import torch
from safetensors.torch import save_file
from torch_geometric.nn import GCNConv, TransformerConv

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def graph(n):
    """Random duplicate-free edges j -> i over n nodes; none into 0 and n - 1; one self loop 2 -> 2."""
    g = torch.Generator().manual_seed(27)
    edges = {(2, 2)}
    while len(edges) < 12:
        j, i = torch.randint(0, n, (2,), generator=g).tolist()
        if i not in (0, n - 1) and i != j:
            edges.add((j, i))
    edges = sorted(edges)
    return torch.tensor([[j for j, _ in edges], [i for _, i in edges]], dtype=torch.int64)


def run(layer, x, edge_index, w, prefix, tensors):
    x = x.detach().clone().requires_grad_(True)
    layer.zero_grad()
    out = layer(x, edge_index)
    (out * w).sum().backward()
    tensors[prefix + "out"] = out
    tensors[prefix + "grad.x"] = x.grad
    for name, p in layer.named_parameters():
        tensors[prefix + "grad." + name] = p.grad.clone()


def main():
    torch.manual_seed(27)
    n, d_in = 6, 3
    x = torch.randn(n, d_in, dtype=torch.float64)
    edge_index = graph(n)
    tensors = {"x": x, "edge_index": edge_index}

    gcn = GCNConv(d_in, 4, normalize=True, add_self_loops=True, bias=True).double()
    with torch.no_grad():
        gcn.bias.copy_(torch.randn(4, dtype=torch.float64))  # non-zero, so the bias is checked too
    for name, p in gcn.named_parameters():
        tensors["gcn." + name] = p
    w = torch.randn(n, 4, dtype=torch.float64)
    tensors["gcn.out_weight"] = w
    run(gcn, x, edge_index, w, "gcn.", tensors)
    paper = GCNConv(d_in, 4, normalize=True, add_self_loops=False, bias=True).double()
    paper.load_state_dict(gcn.state_dict())
    loops = torch.arange(n, dtype=torch.int64).repeat(2, 1)
    run(paper, x, torch.cat([edge_index, loops], dim=1), w, "gcn_paper.", tensors)

    for concat in (True, False):
        prefix = "tc%d." % int(concat)
        tc = TransformerConv(d_in, 2, heads=2, concat=concat, beta=False, root_weight=True).double()
        for name, p in tc.named_parameters():
            tensors[prefix + name] = p
        w = torch.randn(n, 4 if concat else 2, dtype=torch.float64)
        tensors[prefix + "out_weight"] = w
        run(tc, x, edge_index, w, prefix, tensors)

    target = os.path.join(GOLDEN, "E27")
    os.makedirs(target, exist_ok=True)
    save_file({k: t.detach().contiguous() for k, t in tensors.items()}, os.path.join(target, "graph.safetensors"),
              metadata={"source": "torch_geometric 2.8.0.post1 GCNConv, TransformerConv"})


if __name__ == "__main__":
    main()
