// What NVRTC predefines, declared for clang's CUDA front end so KernelCompileTest can compile the
// kernels to PTX without a CUDA toolkit (clang -x cuda --cuda-device-only -nocudainc -nocudalib
// -include nvrtc-shim.cuh). Compile-only: the math functions are declarations, never linked.
// Add here whatever a kernel starts to use from NVRTC's built-in headers.
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __host__ __attribute__((host))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __restrict__ __restrict
#include <__clang_cuda_builtin_vars.h> // threadIdx, blockIdx, blockDim, gridDim, warpSize

#define TS_SHIM_F1(name) extern "C" __device__ float name(float);
TS_SHIM_F1(expf) TS_SHIM_F1(exp2f) TS_SHIM_F1(expm1f) TS_SHIM_F1(logf) TS_SHIM_F1(log2f) TS_SHIM_F1(log1pf)
TS_SHIM_F1(sqrtf) TS_SHIM_F1(rsqrtf) TS_SHIM_F1(fabsf) TS_SHIM_F1(sinf) TS_SHIM_F1(cosf) TS_SHIM_F1(tanhf)
TS_SHIM_F1(erff) TS_SHIM_F1(floorf) TS_SHIM_F1(ceilf) TS_SHIM_F1(__expf) TS_SHIM_F1(__logf)
#undef TS_SHIM_F1
extern "C" __device__ float powf(float, float);
extern "C" __device__ float fmaxf(float, float);
extern "C" __device__ float fminf(float, float);
extern "C" __device__ float fmaf(float, float, float);

__device__ inline float __int_as_float(int x) { return __builtin_bit_cast(float, x); }
__device__ inline int __float_as_int(float x) { return __builtin_bit_cast(int, x); }
__device__ inline float __uint_as_float(unsigned int x) { return __builtin_bit_cast(float, x); }
__device__ inline unsigned int __float_as_uint(float x) { return __builtin_bit_cast(unsigned int, x); }
__device__ inline float __shfl_xor_sync(unsigned int mask, float v, int lane, int width = 32) {
    return __nvvm_shfl_sync_bfly_f32(mask, v, lane, ((32 - width) << 8) | 0x1f);
}
__device__ inline float __shfl_sync(unsigned int mask, float v, int src, int width = 32) {
    return __nvvm_shfl_sync_idx_f32(mask, v, src, ((32 - width) << 8) | 0x1f);
}
__device__ inline float atomicAdd(float* p, float v) { return __nvvm_atom_add_gen_f(p, v); }
// __syncthreads() is a clang builtin in CUDA mode
