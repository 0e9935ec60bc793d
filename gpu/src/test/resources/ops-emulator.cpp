// Runs the embedding, gradient-norm and masked-softmax kernels (embedding.cu, grad_norm.cu,
// masked_softmax.cu after common.cuh, included as "kernel.cu") on the CPU with the fiber runtime of
// cuda-emulator.h, launched as CudaOps launches them. Used by OpsEmulationTest; built with clang-19.
//
// usage: ops-emulator OP THREADS DIR ARGS...
//   embedding V C N       DIR/{w (V,C) f32, ids (N) i64, g (N,C) f32} -> DIR/{out (N,C), dw (V,C)} f32
//   sum_squares N BLOCKS  DIR/{x (N) f32, running (1) f64} -> DIR/out.bin (1) f64
//   masked_softmax ROWS COLS SCALE MASKLEN DIMS...  (DIMS: the 25 longs of Dims)
//                         DIR/{x (ROWS,COLS) f32, mask (MASKLEN) u8} -> DIR/y.bin f32
#include "cuda-emulator.h"
#include "kernel.cu"

int main(int argc, char** argv) {
    if (argc < 4) { std::fprintf(stderr, "usage: %s OP THREADS DIR ARGS...\n", argv[0]); return 2; }
    const char* op = argv[1];
    int threads = std::atoi(argv[2]);
    const char* dir = argv[3];
    if (!std::strcmp(op, "embedding") && argc == 7) {
        long long v = std::atoll(argv[4]), c = std::atoll(argv[5]), n = std::atoll(argv[6]);
        std::vector<float> w = load<float>(dir, "w.bin", v * c), g = load<float>(dir, "g.bin", n * c), out(n * c), dw(v * c, 0.f);
        std::vector<long long> ids = load<long long>(dir, "ids.bin", n);
        long long blocks = (n * c + threads - 1) / threads;
        launch(blocks > 0 ? blocks : 1, threads, [&] { embedding_fwd_f32(w.data(), ids.data(), out.data(), n, v, c); });
        if (n > 0) launch(n, threads, [&] { embedding_bwd_f32(g.data(), ids.data(), dw.data(), n, v, c); });
        save(dir, "out.bin", out);
        save(dir, "dw.bin", dw);
        return 0;
    }
    if (!std::strcmp(op, "sum_squares") && argc == 6) {
        long long n = std::atoll(argv[4]), blocks = std::atoll(argv[5]);
        std::vector<float> x = load<float>(dir, "x.bin", n);
        std::vector<double> running = load<double>(dir, "running.bin", 1), partial(blocks), out(1);
        launch(blocks, threads, [&] { sum_squares_partial_f64(x.data(), partial.data(), n); });
        launch(1, threads, [&] { sum_squares_finish_f64(partial.data(), running.data(), out.data(), blocks); });
        save(dir, "out.bin", out);
        return 0;
    }
    if (!std::strcmp(op, "masked_softmax") && argc == 8 + 1 + 3 * TS_MAX_DIMS) {
        long long rows = std::atoll(argv[4]), cols = std::atoll(argv[5]), maskLen = std::atoll(argv[7]);
        float scale = std::strtof(argv[6], nullptr);
        Dims d;
        for (int i = 0; i < 1 + 3 * TS_MAX_DIMS; ++i) d.v[i] = std::atoll(argv[8 + i]);
        std::vector<float> x = load<float>(dir, "x.bin", rows * cols), y(rows * cols);
        std::vector<unsigned char> mask = load<unsigned char>(dir, "mask.bin", maskLen);
        if (rows > 0) launch(rows, threads, [&] { masked_softmax_f32(x.data(), mask.data(), y.data(), rows, cols, d, scale); });
        save(dir, "y.bin", y);
        return 0;
    }
    std::fprintf(stderr, "ops-emulator: unknown op or argument count: %s (%d arguments)\n", op, argc);
    return 2;
}
