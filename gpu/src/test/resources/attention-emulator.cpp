// Runs the attention kernels (attention.cu with common.cuh, included as "kernel.cu") on the CPU:
// one fiber (ucontext) per CUDA thread on a single OS thread, the blocks of a launch one after
// another, __shared__ arrays as function statics (one block lives at a time), __syncthreads as a
// barrier (the scheduler runs every fiber of the block up to its next barrier, round after round)
// and __shfl_xor_sync through a per-block buffer between two barriers (the attention kernels
// shuffle with every thread of the block in step). It checks the kernels' indexing, tiling, masking
// and online softmax, not their speed. Used by AttentionEmulationTest; built with clang-19 -x c++.
//
// usage: attention-emulator THREADS LANES B H HKV TQ TK D CAUSAL SCALE DIR
// reads DIR/{q,k,v,dout}.bin (float32), writes DIR/{o,lse,dq,dk,dv}.bin
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ucontext.h>
#include <vector>

struct ts_dim3 { unsigned int x = 0, y = 0, z = 0; };
ts_dim3 threadIdx, blockIdx, blockDim, gridDim;
static ucontext_t ts_scheduler;
static std::vector<ucontext_t> ts_fibers;
static std::vector<float> ts_shuffle;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
inline void __syncthreads() { swapcontext(&ts_fibers[threadIdx.x], &ts_scheduler); }
inline float __shfl_xor_sync(unsigned int, float v, int laneMask) {
    ts_shuffle[threadIdx.x] = v;
    __syncthreads();
    float r = ts_shuffle[threadIdx.x ^ laneMask];
    __syncthreads();
    return r;
}
inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
inline float __uint_as_float(unsigned int x) { float f; std::memcpy(&f, &x, 4); return f; }
inline unsigned int __float_as_uint(float x) { unsigned int u; std::memcpy(&u, &x, 4); return u; }
inline float atomicAdd(float* p, float v) { float o = *p; *p += v; return o; } // unused by attention

#include "kernel.cu"

static void* ts_body;
static void (*ts_call)(void*);
static std::vector<char> ts_done;

static void ts_fiber_main(int t) {
    ts_call(ts_body);
    ts_done[t] = 1;
}

// Runs `blocks` blocks of `threads` fibers; each round resumes every unfinished fiber once.
template <class F> static void launch(long long blocks, int threads, F body) {
    blockDim = {(unsigned) threads, 1, 1};
    gridDim = {(unsigned) blocks, 1, 1};
    ts_body = &body;
    ts_call = [](void* f) { (*(F*) f)(); };
    ts_shuffle.assign(threads, 0.f);
    ts_fibers.assign(threads, ucontext_t{});
    const size_t stackBytes = 64 << 10; // the kernels keep a few hundred bytes of arrays per thread
    std::vector<char*> stacks(threads);
    for (auto& st : stacks) st = new char[stackBytes];
    for (long long b = 0; b < blocks; ++b) {
        blockIdx = {(unsigned) b, 0, 0};
        ts_done.assign(threads, 0);
        for (int t = 0; t < threads; ++t) {
            getcontext(&ts_fibers[t]);
            ts_fibers[t].uc_stack.ss_sp = stacks[t];
            ts_fibers[t].uc_stack.ss_size = stackBytes;
            ts_fibers[t].uc_link = &ts_scheduler;
            makecontext(&ts_fibers[t], (void (*)()) ts_fiber_main, 1, t);
        }
        for (int alive = threads; alive > 0;) {
            int waiting = 0;
            for (int t = 0; t < threads; ++t) {
                if (ts_done[t]) continue;
                threadIdx = {(unsigned) t, 0, 0};
                swapcontext(&ts_scheduler, &ts_fibers[t]);
                waiting += !ts_done[t];
            }
            if (waiting > 0 && waiting < alive) {
                std::fprintf(stderr, "attention-emulator: block %lld: a __syncthreads reached by %d of %d threads\n", b, waiting, alive);
                std::exit(3);
            }
            alive = waiting;
        }
    }
    for (char* st : stacks) delete[] st;
}

static std::vector<float> load(const char* dir, const char* name, size_t n) {
    char path[4096];
    std::snprintf(path, sizeof path, "%s/%s", dir, name);
    std::vector<float> v(n);
    FILE* f = std::fopen(path, "rb");
    if (!f || std::fread(v.data(), 4, n, f) != n) { std::fprintf(stderr, "attention-emulator: cannot read %s\n", path); std::exit(2); }
    std::fclose(f);
    return v;
}

static void save(const char* dir, const char* name, const std::vector<float>& v) {
    char path[4096];
    std::snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(v.data(), 4, v.size(), f) != v.size()) { std::fprintf(stderr, "attention-emulator: cannot write %s\n", path); std::exit(2); }
    std::fclose(f);
}

int main(int argc, char** argv) {
    if (argc != 12) { std::fprintf(stderr, "usage: %s THREADS LANES B H HKV TQ TK D CAUSAL SCALE DIR\n", argv[0]); return 2; }
    int threads = std::atoi(argv[1]), lanes = std::atoi(argv[2]);
    long long b = std::atoll(argv[3]), h = std::atoll(argv[4]), hkv = std::atoll(argv[5]), tq = std::atoll(argv[6]),
              tk = std::atoll(argv[7]), d = std::atoll(argv[8]);
    int causal = std::atoi(argv[9]);
    float scale = std::strtof(argv[10], nullptr);
    const char* dir = argv[11];
    size_t nq = b * h * tq * d, nk = b * hkv * tk * d;
    std::vector<float> q = load(dir, "q.bin", nq), k = load(dir, "k.bin", nk), v = load(dir, "v.bin", nk),
                       dout = load(dir, "dout.bin", nq);
    std::vector<float> o(nq), lse(b * h * tq), dq(nq), dk(nk), dv(nk), delta(b * h * tq);
    long long rows = threads / lanes, bh = b * h;
    launch(bh * ((tq + rows - 1) / rows), threads, [&] {
        attention_fwd_f32(q.data(), k.data(), v.data(), o.data(), lse.data(), bh, h, hkv, tq, tk, d, scale, causal, lanes);
    });
    launch(bh * ((tq + rows - 1) / rows), threads, [&] {
        attention_bwd_dq_f32(q.data(), k.data(), v.data(), o.data(), dout.data(), lse.data(), dq.data(), delta.data(), bh, h, hkv,
                tq, tk, d, scale, causal, lanes);
    });
    launch(b * hkv * ((tk + rows - 1) / rows), threads, [&] {
        attention_bwd_dkdv_f32(q.data(), k.data(), v.data(), dout.data(), lse.data(), delta.data(), dk.data(), dv.data(), bh, h,
                hkv, tq, tk, d, scale, causal, lanes);
    });
    save(dir, "o.bin", o);
    save(dir, "lse.bin", lse);
    save(dir, "dq.bin", dq);
    save(dir, "dk.bin", dk);
    save(dir, "dv.bin", dv);
    return 0;
}
