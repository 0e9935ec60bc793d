"""PyTorch's side of `tessera bench train --profile`: the same training step as
../shared/ref/torch_llama_step.py (its model and AdamW, run from its own source), two warm-up steps,
then torch.profiler over STEPS steps; prints the step's median seconds and the ops' self CPU time per
step, slowest first (forward and backward ops are separate rows, as autograd names them).
Usage: bench/peer-python.sh's interpreter: python bench/torch_step_profile.py PRESET THREADS [STEPS]"""
import pathlib, sys, time
preset, threads = sys.argv[1], sys.argv[2]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
src = (pathlib.Path(__file__).resolve().parent.parent.parent / "shared/ref/torch_llama_step.py").read_text()
setup = src.split("for _ in range(2): step()")[0]  # model, optimizer, data and step(); not its timing loop
sys.argv = ["torch_llama_step.py", "--preset", preset, "--threads", threads]
env = {"__name__": "torch_step"}
exec(compile(setup, "torch_llama_step.py", "exec"), env)
torch, step = env["torch"], env["step"]
for _ in range(2):
    step()
times = []
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
    for _ in range(steps):
        s = time.perf_counter(); step(); times.append(time.perf_counter() - s)
times.sort()
print(f"torch {torch.__version__} preset={preset} threads={threads} step_s={times[len(times) // 2]:.4f} (profiled)")
rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
total = sum(e.self_cpu_time_total for e in rows)
print(f"{'op':44s} {'calls':>8s} {'ms/step':>10s} {'share':>6s}")
for e in rows:
    ms = e.self_cpu_time_total / 1e3 / steps
    if ms >= 0.05:
        print(f"{e.key[:44]:44s} {e.count / steps:8.1f} {ms:10.2f} {100 * e.self_cpu_time_total / total:5.1f}%")
print(f"{'total self CPU':44s} {'':8s} {total / 1e3 / steps:10.2f}")
