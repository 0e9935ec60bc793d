// Gradient clipping's sum of squares: out = running + sum x_i^2 over a contiguous F32 array, in
// double (each square is exact in double; only the additions round). Deterministic: two kernels with
// a grid fixed by n alone (the host's choice, never the device's), each thread summing a fixed
// strided slice and each block combining its threads by a fixed tree, then one block combining the
// partials likewise. The order differs from the CPU's sequential sum, so the last bits may too.
// blockDim.x must be TS_SQ_THREADS.
#define TS_SQ_THREADS 256

// Tree sum of one value per thread; thread 0 gets the block's sum.
__device__ __forceinline__ double sq_block_sum(double v, double* sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned int s = TS_SQ_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    return sh[0];
}

extern "C" __global__ void sum_squares_partial_f64(const float* __restrict__ x, double* __restrict__ partial, i64 n) {
    __shared__ double sh[TS_SQ_THREADS];
    double acc = 0.0;
    for (i64 i = (i64) blockIdx.x * TS_SQ_THREADS + threadIdx.x; i < n; i += (i64) TS_SQ_THREADS * gridDim.x) {
        double v = x[i];
        acc += v * v;
    }
    double s = sq_block_sum(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

extern "C" __global__ void sum_squares_finish_f64(const double* __restrict__ partial, const double* __restrict__ running,
        double* __restrict__ out, i64 parts) {
    __shared__ double sh[TS_SQ_THREADS];
    double acc = 0.0;
    for (i64 i = threadIdx.x; i < parts; i += TS_SQ_THREADS) acc += partial[i];
    double s = sq_block_sum(acc, sh);
    if (threadIdx.x == 0) out[0] = running[0] + s;
}
