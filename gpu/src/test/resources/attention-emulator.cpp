// Runs the attention kernels (attention.cu with common.cuh, included as "kernel.cu") on the CPU with
// the fiber runtime of cuda-emulator.h. Used by AttentionEmulationTest; built with clang-19 -x c++.
//
// usage: attention-emulator THREADS LANES B H HKV TQ TK D CAUSAL OFFSET DOCCOLS SCALE DIR
// reads DIR/{q,k,v,dout}.bin (float32) and, when DOCCOLS > 0, DIR/docs.bin ((B, DOCCOLS) int64
// document ids); writes DIR/{o,lse,dq,dk,dv}.bin
#include "cuda-emulator.h"
#include "kernel.cu"

int main(int argc, char** argv) {
    if (argc != 14) {
        std::fprintf(stderr, "usage: %s THREADS LANES B H HKV TQ TK D CAUSAL OFFSET DOCCOLS SCALE DIR\n", argv[0]);
        return 2;
    }
    int threads = std::atoi(argv[1]), lanes = std::atoi(argv[2]);
    long long b = std::atoll(argv[3]), h = std::atoll(argv[4]), hkv = std::atoll(argv[5]), tq = std::atoll(argv[6]),
              tk = std::atoll(argv[7]), d = std::atoll(argv[8]);
    int causal = std::atoi(argv[9]);
    long long off = std::atoll(argv[10]), docCols = std::atoll(argv[11]);
    float scale = std::strtof(argv[12], nullptr);
    const char* dir = argv[13];
    size_t nq = b * h * tq * d, nk = b * hkv * tk * d;
    std::vector<float> q = load<float>(dir, "q.bin", nq), k = load<float>(dir, "k.bin", nk), v = load<float>(dir, "v.bin", nk),
                       dout = load<float>(dir, "dout.bin", nq);
    std::vector<long long> docs = docCols > 0 ? load<long long>(dir, "docs.bin", b * docCols) : std::vector<long long>();
    const long long* dp = docCols > 0 ? docs.data() : nullptr;
    std::vector<float> o(nq), lse(b * h * tq), dq(nq), dk(nk), dv(nk), delta(b * h * tq);
    long long rows = threads / lanes, bh = b * h;
    launch(bh * ((tq + rows - 1) / rows), threads, [&] {
        attention_fwd_f32(q.data(), k.data(), v.data(), o.data(), lse.data(), bh, h, hkv, tq, tk, d, scale, causal, off, dp, docCols,
                lanes);
    });
    launch(bh * ((tq + rows - 1) / rows), threads, [&] {
        attention_bwd_dq_f32(q.data(), k.data(), v.data(), o.data(), dout.data(), lse.data(), dq.data(), delta.data(), bh, h, hkv,
                tq, tk, d, scale, causal, off, dp, docCols, lanes);
    });
    launch(b * hkv * ((tk + rows - 1) / rows), threads, [&] {
        attention_bwd_dkdv_f32(q.data(), k.data(), v.data(), dout.data(), lse.data(), delta.data(), dk.data(), dv.data(), bh, h,
                hkv, tq, tk, d, scale, causal, off, dp, docCols, lanes);
    });
    save(dir, "o.bin", o);
    save(dir, "lse.bin", lse);
    save(dir, "dq.bin", dq);
    save(dir, "dk.bin", dk);
    save(dir, "dv.bin", dv);
    return 0;
}
