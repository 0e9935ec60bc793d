// A CUDA runtime for running kernels on the CPU (attention-emulator.cpp, ops-emulator.cpp): one
// fiber (ucontext) per CUDA thread on a single OS thread, the blocks of a launch one after another,
// __shared__ arrays as function statics (one block lives at a time), __syncthreads as a barrier (the
// scheduler runs every fiber of the block up to its next barrier, round after round) and
// __shfl_xor_sync through a per-block buffer between two barriers (so every thread of the block must
// shuffle in step). It checks kernels' indexing, tiling, masking and arithmetic, not their speed.
// Include it, then the kernel source; launch(blocks, threads, [&] { kernel(...); }).
#pragma once
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
                std::fprintf(stderr, "emulator: block %lld: a __syncthreads reached by %d of %d threads\n", b, waiting, alive);
                std::exit(3);
            }
            alive = waiting;
        }
    }
    for (char* st : stacks) delete[] st;
}


// DIR/NAME as n elements of T; exits 2 when it cannot.
template <class T> static std::vector<T> load(const char* dir, const char* name, size_t n) {
    char path[4096];
    std::snprintf(path, sizeof path, "%s/%s", dir, name);
    std::vector<T> v(n);
    FILE* f = std::fopen(path, "rb");
    if (!f || std::fread(v.data(), sizeof(T), n, f) != n) { std::fprintf(stderr, "emulator: cannot read %s\n", path); std::exit(2); }
    std::fclose(f);
    return v;
}

template <class T> static void save(const char* dir, const char* name, const std::vector<T>& v) {
    char path[4096];
    std::snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(v.data(), sizeof(T), v.size(), f) != v.size()) { std::fprintf(stderr, "emulator: cannot write %s\n", path); std::exit(2); }
    std::fclose(f);
}
