package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every device op against a CPU reference. Runs only where CUDA is present ({@link RequiresCuda});
 * elsewhere the class is skipped with the printed reason.
 */
@RequiresCuda
class CudaOpsGpuTest {
    static CudaBackend cuda;
    static CudaOps ops;
    static final Random RND = new Random(42);

    @BeforeAll
    static void open() {
        cuda = CudaBackend.open();
        ops = new CudaOps(cuda);
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    static float[] randn(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) RND.nextGaussian();
        }
        return x;
    }

    static DeviceTensor dev(float[] x, int... shape) {
        return DeviceTensor.fromHost(cuda, Tensor.of(x, shape));
    }

    static float[] host(DeviceTensor t) {
        return t.toHost().toFloatArray();
    }

    static void close(float[] expected, float[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(e)) {
                assertTrue(Double.isNaN(a), what + "[" + i + "]: expected NaN, got " + a);
                continue;
            }
            assertTrue(Math.abs(e - a) <= atol + rtol * Math.abs(e) || e == a, what + "[" + i + "]: expected " + e + ", got " + a);
        }
    }

    @Test
    void roundTripHostDevice() {
        for (int n : new int[] {1, 1000, 5_000_000}) { // small path and chunked pinned path
            float[] x = randn(n);
            try (DeviceTensor d = dev(x, n)) {
                close(x, host(d), 0, 0, "round trip " + n);
            }
        }
    }

    @Test
    void matmulF32Tf32Bf16AgainstCpu() {
        int m = 65, k = 130, n = 33;
        float[] a = randn(m * k), b = randn(k * n);
        float[] ref = Tensor.of(a, m, k).matmul(Tensor.of(b, k, n)).toFloatArray();
        DeviceTensor da = dev(a, m, k), db = dev(b, k, n);
        close(ref, host(ops.matmul(da, db, CudaOps.Precision.F32)), 1e-4, 1e-4, "F32");
        close(ref, host(ops.matmul(da, db, CudaOps.Precision.TF32)), 5e-2, 1e-2, "TF32");
        float[] a16 = Tensor.of(a, m, k).to(DType.BF16).to(DType.F32).toFloatArray();
        float[] b16 = Tensor.of(b, k, n).to(DType.BF16).to(DType.F32).toFloatArray();
        float[] ref16 = Tensor.of(a16, m, k).matmul(Tensor.of(b16, k, n)).toFloatArray();
        close(ref16, host(ops.matmul(da, db, CudaOps.Precision.BF16)), 1e-3, 1e-3, "BF16 inputs, F32 accumulation");
    }

    @Test
    void matmulTransposedViewAndBatched() {
        int m = 7, k = 5, n = 9;
        float[] at = randn(k * m), b = randn(k * n);
        // A = at^T, passed as a column-major view (no copy)
        DeviceTensor dat = dev(at, k, m);
        DeviceTensor aView = dat.withLayout(new int[] {m, k}, new long[] {1, m});
        float[] ref = Tensor.of(at, k, m).mT().matmul(Tensor.of(b, k, n)).toFloatArray();
        close(ref, host(ops.matmul(aView, dev(b, k, n), CudaOps.Precision.F32)), 1e-4, 1e-4, "transposed view");

        int bs = 3;
        float[] x = randn(bs * m * k), y = randn(bs * k * n);
        float[] bref = Tensor.of(x, bs, m, k).matmul(Tensor.of(y, bs, k, n)).toFloatArray();
        close(bref, host(ops.matmul(dev(x, bs, m, k), dev(y, bs, k, n), CudaOps.Precision.F32)), 1e-4, 1e-4, "batched");
    }

    @Test
    void unaryOpsAgainstScalarDefinitions() {
        float[] x = randn(1000);
        x[0] = 0f;
        x[1] = Float.NaN;
        DeviceTensor dx = dev(x, 1000);
        for (UnaryOp op : UnaryOp.values()) {
            float[] ref = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                ref[i] = (float) op.apply(x[i]);
            }
            close(ref, host(ops.unary(op, dx)), 1e-5, 1e-5, op.name());
        }
    }

    @Test
    void binaryOpsWithBroadcasting() {
        float[] a = randn(4 * 1 * 3), b = randn(5 * 1);
        DeviceTensor da = dev(a, 4, 1, 3), db = dev(b, 5, 1);
        for (BinaryOp op : BinaryOp.values()) {
            if (op == BinaryOp.POW) {
                continue; // negative bases: NaN on both sides, compared below with positive bases
            }
            float[] ref = Tensor.of(a, 4, 1, 3).apply(op, Tensor.of(b, 5, 1)).to(DType.F32).toFloatArray();
            close(ref, host(ops.binary(op, da, db)), 1e-6, 1e-6, op.name());
        }
        float[] pa = randn(60);
        for (int i = 0; i < pa.length; i++) {
            pa[i] = Math.abs(pa[i]) + 0.1f;
        }
        float[] ref = Tensor.of(pa, 4, 5, 3).pow(Tensor.of(b, 5, 1)).toFloatArray();
        close(ref, host(ops.binary(BinaryOp.POW, dev(pa, 4, 5, 3), db)), 1e-5, 1e-5, "POW");
        // same-shape contiguous fast path
        float[] c = randn(60);
        close(Tensor.of(pa, 60).add(Tensor.of(c, 60)).toFloatArray(), host(ops.binary(BinaryOp.ADD, dev(pa, 60), dev(c, 60))), 0,
                0, "contiguous add");
    }

    @Test
    void rowReductions() {
        float[] x = randn(37 * 300);
        DeviceTensor dx = dev(x, 37, 300);
        Tensor t = Tensor.of(x, 37, 300);
        close(t.sum(1).toFloatArray(), host(ops.reduceRows(ReduceOp.SUM, dx)), 1e-4, 1e-5, "sum");
        close(t.max(false, 1).toFloatArray(), host(ops.reduceRows(ReduceOp.MAX, dx)), 0, 0, "max");
        close(t.min(false, 1).toFloatArray(), host(ops.reduceRows(ReduceOp.MIN, dx)), 0, 0, "min");
    }

    @Test
    void softmaxPlainMaskedCausalAndBackward() {
        int rows = 12, cols = 50;
        float[] x = randn(rows * cols);
        Tensor t = Tensor.of(x, rows, cols);
        DeviceTensor dx = dev(x, rows, cols);
        close(t.softmax(1).toFloatArray(), host(ops.softmax(dx, null, 0)), 1e-6, 1e-5, "softmax");

        float[] mask = new float[2 * cols];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = RND.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : 0f;
        }
        float[] masked = x.clone();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                masked[r * cols + c] += mask[(r % 2) * cols + c];
            }
        }
        close(Tensor.of(masked, rows, cols).softmax(1).toFloatArray(), host(ops.softmax(dx, dev(mask, 2, cols), 0)), 1e-6, 1e-5,
                "masked");

        int tq = 4, tk = 6;
        float[] s = randn(3 * tq * tk);
        float[] causal = s.clone();
        for (int r = 0; r < 3 * tq; r++) {
            for (int c = 0; c < tk; c++) {
                if (c > r % tq + (tk - tq)) {
                    causal[r * tk + c] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        close(Tensor.of(causal, 3 * tq, tk).softmax(1).toFloatArray(), host(ops.softmax(dev(s, 3 * tq, tk), null, tq)), 1e-6,
                1e-5, "causal");

        float[] dy = randn(rows * cols);
        DeviceTensor y = ops.softmax(dx, null, 0);
        float[] yh = host(y);
        float[] ref = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                dot += yh[r * cols + c] * dy[r * cols + c];
            }
            for (int c = 0; c < cols; c++) {
                ref[r * cols + c] = (float) (yh[r * cols + c] * (dy[r * cols + c] - dot));
            }
        }
        close(ref, host(ops.softmaxBackward(y, dev(dy, rows, cols))), 1e-6, 1e-4, "softmax backward");
    }

    @Test
    void rmsNormAndLayerNormForwardBackward() {
        int rows = 9, cols = 70;
        float eps = 1e-5f;
        float[] x = randn(rows * cols), w = randn(cols), bias = randn(cols), dy = randn(rows * cols);
        float[] yR = new float[x.length], dxR = new float[x.length], dwR = new float[cols];
        float[] yL = new float[x.length], dxL = new float[x.length], dwL = new float[cols], dbL = new float[cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double ss = 0, mu = 0, var = 0;
            for (int c = 0; c < cols; c++) {
                ss += x[o + c] * x[o + c];
                mu += x[o + c];
            }
            double rr = 1 / Math.sqrt(ss / cols + eps);
            mu /= cols;
            for (int c = 0; c < cols; c++) {
                var += (x[o + c] - mu) * (x[o + c] - mu);
            }
            double rl = 1 / Math.sqrt(var / cols + eps);
            double dotR = 0, sg = 0, sgx = 0;
            for (int c = 0; c < cols; c++) {
                yR[o + c] = (float) (x[o + c] * rr * w[c]);
                yL[o + c] = (float) ((x[o + c] - mu) * rl * w[c] + bias[c]);
                dotR += dy[o + c] * w[c] * x[o + c] * rr;
                sg += dy[o + c] * w[c];
                sgx += dy[o + c] * w[c] * (x[o + c] - mu) * rl;
            }
            for (int c = 0; c < cols; c++) {
                double xr = x[o + c] * rr, xl = (x[o + c] - mu) * rl, g = dy[o + c] * w[c];
                dxR[o + c] = (float) (rr * (g - xr * dotR / cols));
                dxL[o + c] = (float) (rl * (g - sg / cols - xl * sgx / cols));
                dwR[c] += (float) (dy[o + c] * xr);
                dwL[c] += (float) (dy[o + c] * xl);
                dbL[c] += dy[o + c];
            }
        }
        DeviceTensor dX = dev(x, rows, cols), dW = dev(w, cols), dB = dev(bias, cols), dDy = dev(dy, rows, cols);
        CudaOps.Norm rn = ops.rmsNorm(dX, dW, eps);
        close(yR, host(rn.y()), 1e-5, 1e-4, "rmsnorm");
        CudaOps.NormGrads rg = ops.rmsNormBackward(dDy, dX, dW, rn.rstd());
        close(dxR, host(rg.dx()), 1e-4, 1e-3, "rmsnorm dx");
        close(dwR, host(rg.dw()), 1e-4, 1e-3, "rmsnorm dw");
        CudaOps.Norm ln = ops.layerNorm(dX, dW, dB, eps);
        close(yL, host(ln.y()), 1e-5, 1e-4, "layernorm");
        CudaOps.NormGrads lg = ops.layerNormBackward(dDy, dX, dW, true, ln.mean(), ln.rstd());
        close(dxL, host(lg.dx()), 1e-4, 1e-3, "layernorm dx");
        close(dwL, host(lg.dw()), 1e-4, 1e-3, "layernorm dw");
        close(dbL, host(lg.db()), 1e-4, 1e-3, "layernorm db");
    }

    @Test
    void ropeBothConventionsAndInverse() {
        int heads = 2, t = 5, d = 8, half = d / 2;
        float[] x = randn(heads * t * d), cos = new float[t * half], sin = new float[t * half];
        for (int p = 0; p < t; p++) {
            for (int j = 0; j < half; j++) {
                double ang = p * Math.pow(10000, -2.0 * j / d);
                cos[p * half + j] = (float) Math.cos(ang);
                sin[p * half + j] = (float) Math.sin(ang);
            }
        }
        DeviceTensor dx = dev(x, heads, t, d), dc = dev(cos, t, half), ds = dev(sin, t, half);
        for (boolean halfSplit : new boolean[] {true, false}) {
            float[] ref = new float[x.length];
            for (int r = 0; r < heads * t; r++) {
                int p = r % t;
                for (int j = 0; j < half; j++) {
                    int i1 = halfSplit ? j : 2 * j, i2 = halfSplit ? j + half : 2 * j + 1;
                    float c = cos[p * half + j], s = sin[p * half + j], x1 = x[r * d + i1], x2 = x[r * d + i2];
                    ref[r * d + i1] = x1 * c - x2 * s;
                    ref[r * d + i2] = x2 * c + x1 * s;
                }
            }
            DeviceTensor y = ops.rope(dx, dc, ds, 1, t, 0, halfSplit, false);
            close(ref, host(y), 1e-6, 1e-5, "rope halfSplit=" + halfSplit);
            close(x, host(ops.rope(y, dc, ds, 1, t, 0, halfSplit, true)), 1e-5, 1e-5, "inverse rope");
        }
    }

    @Test
    void swigluForwardBackward() {
        int n = 777;
        float[] g = randn(n), u = randn(n), dy = randn(n);
        float[] y = new float[n], dg = new float[n], du = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 1 / (1 + Math.exp(-g[i]));
            y[i] = (float) (g[i] * s * u[i]);
            du[i] = (float) (dy[i] * g[i] * s);
            dg[i] = (float) (dy[i] * u[i] * s * (1 + g[i] * (1 - s)));
        }
        DeviceTensor dG = dev(g, n), dU = dev(u, n);
        close(y, host(ops.swiglu(dG, dU)), 1e-6, 1e-5, "swiglu");
        DeviceTensor[] grads = ops.swigluBackward(dev(dy, n), dG, dU);
        close(dg, host(grads[0]), 1e-6, 1e-5, "swiglu dgate");
        close(du, host(grads[1]), 1e-6, 1e-5, "swiglu dup");
    }

    @Test
    void crossEntropyForwardBackward() {
        int rows = 6, vocab = 1000;
        float[] logits = randn(rows * vocab);
        long[] targets = {3, 999, -100, 0, 500, 42};
        DeviceTensor dl = dev(logits, rows, vocab), dt = DeviceTensor.fromHost(cuda, Tensor.of(targets, rows));
        CudaOps.CrossEntropy ce = ops.crossEntropy(dl, dt, -100);
        Tensor lsm = Tensor.of(logits, rows, vocab).logSoftmax(1);
        float[] loss = new float[rows];
        float scale = 1f / 5;
        float[] grad = new float[rows * vocab];
        Tensor sm = Tensor.of(logits, rows, vocab).softmax(1);
        for (int r = 0; r < rows; r++) {
            if (targets[r] == -100) {
                continue;
            }
            loss[r] = (float) -lsm.getDouble(r, (int) targets[r]);
            for (int c = 0; c < vocab; c++) {
                grad[r * vocab + c] = (float) ((sm.getDouble(r, c) - (c == targets[r] ? 1 : 0)) * scale);
            }
        }
        close(loss, host(ce.loss()), 1e-5, 1e-5, "cross-entropy loss");
        close(grad, host(ops.crossEntropyBackward(dl, dt, ce.lse(), -100, scale)), 1e-7, 1e-4, "cross-entropy grad");
    }

    @Test
    void adamwStepsMatchTorchFormula() {
        int n = 1025;
        float[] p = randn(n), m = new float[n], v = new float[n];
        DeviceTensor dp = dev(p, n), dm = dev(m, n), dv = dev(v, n);
        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        double[] pr = new double[n], mr = new double[n], vr = new double[n];
        for (int i = 0; i < n; i++) {
            pr[i] = p[i];
        }
        for (int step = 1; step <= 3; step++) {
            float[] g = randn(n);
            ops.adamwStep(dp, dev(g, n), dm, dv, step, lr, b1, b2, eps, wd);
            for (int i = 0; i < n; i++) {
                pr[i] *= 1 - lr * wd;
                mr[i] = b1 * mr[i] + (1 - b1) * g[i];
                vr[i] = b2 * vr[i] + (1 - b2) * g[i] * g[i];
                double mh = mr[i] / (1 - Math.pow(b1, step)), vh = vr[i] / (1 - Math.pow(b2, step));
                pr[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
        }
        float[] ref = new float[n];
        for (int i = 0; i < n; i++) {
            ref[i] = (float) pr[i];
        }
        close(ref, host(dp), 1e-5, 1e-4, "adamw params");
    }

    static float[] floats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    /**
     * The tiled kernels against the double-precision reference, forward and backward: GQA, causal
     * with Tq != Tk, row and key counts that cross block and tile edges, head dims for 2, 4 and 8
     * lanes per row (24 is not a multiple of the lane count).
     */
    @Test
    void attentionForwardBackwardMatchNaiveAttention() {
        int[][] shapes = {{2, 4, 2, 5, 7, 16}, {1, 2, 1, 70, 75, 64}, {1, 2, 2, 33, 33, 24}, {1, 1, 1, 40, 37, 128}};
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], hkv = sh[2], tq = sh[3], tk = sh[4], d = sh[5];
            float[] q = randn(b * h * tq * d), k = randn(b * hkv * tk * d), v = randn(b * hkv * tk * d), dOut = randn(q.length);
            float scale = (float) (1 / Math.sqrt(d));
            for (boolean causal : new boolean[] {false, true}) {
                String what = "attention " + java.util.Arrays.toString(sh) + " causal=" + causal;
                AttentionReference.Result ref = new AttentionReference(b, h, hkv, tq, tk, d, causal, scale).run(q, k, v, dOut);
                DeviceTensor dq = dev(q, b, h, tq, d), dk = dev(k, b, hkv, tk, d), dv = dev(v, b, hkv, tk, d);
                CudaOps.Attention at = ops.attention(dq, dk, dv, causal, scale);
                close(floats(ref.out()), host(at.out()), 1e-5, 1e-4, what + " out");
                close(floats(ref.lse()), host(at.lse()), 1e-5, 1e-5, what + " lse");
                CudaOps.AttentionGrads g = ops.attentionBackward(dq, dk, dv, at, dev(dOut, b, h, tq, d), causal, scale);
                close(floats(ref.dq()), host(g.dq()), 1e-4, 1e-3, what + " dq");
                close(floats(ref.dk()), host(g.dk()), 1e-4, 1e-3, what + " dk");
                close(floats(ref.dv()), host(g.dv()), 1e-4, 1e-3, what + " dv");
            }
        }
    }

    @Test
    void steadyLoopMakesNoRawAllocations() {
        float[] x = randn(4096);
        DeviceTensor dx = dev(x, 4096);
        for (int i = 0; i < 3; i++) {
            ops.unary(UnaryOp.EXP, dx).close();
        }
        long raw = cuda.allocator().stats().rawAllocations();
        for (int i = 0; i < 100; i++) {
            try (DeviceTensor y = ops.unary(UnaryOp.EXP, dx); DeviceTensor z = ops.binary(BinaryOp.MUL, y, dx)) {
                assertEquals(4096, z.numel());
            }
        }
        assertEquals(raw, cuda.allocator().stats().rawAllocations());
    }

    /** The BF16 path's F32 copy of a strided input (and its BF16 copies) go back to the allocator. */
    @Test
    void bf16MatmulOfATransposedViewFreesItsCopies() {
        int m = 24, k = 16, n = 8;
        DeviceTensor a = dev(randn(k * m), k, m).withLayout(new int[] {m, k}, new long[] {1, m}); // transposed view
        DeviceTensor c = dev(randn(k * n), k, n);
        try (DeviceTensor y = DeviceTensor.empty(cuda, DType.F32, m, n)) {
            cuda.synchronize();
            long inUse = cuda.allocator().stats().bytesInUse();
            ops.matmulInto(a, c, y, CudaOps.Precision.BF16);
            cuda.synchronize();
            assertEquals(inUse, cuda.allocator().stats().bytesInUse(), "bytes still in use after a BF16 matmul");
        }
    }

    /** emptyCache from a thread that never used the backend (its context was never current there). */
    @Test
    void emptyCacheFromAFreshThread() throws Exception {
        ops.unary(UnaryOp.EXP, dev(randn(1000), 1000)).close(); // something cached
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                cuda.emptyCache();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        t.join();
        assertEquals(null, failure[0], "emptyCache on a fresh thread");
        assertEquals(0, cuda.allocator().stats().bytesCached());
    }

    @Test
    void namedOpsThroughTheBackendSeam() {
        float[] a = randn(6), b = randn(6);
        DeviceRuntime be = cuda;
        DeviceTensor out = DeviceTensor.empty(be, DType.F32, 6);
        be.run("binary.add", List.of(dev(a, 6), dev(b, 6)), List.of(out), Map.of());
        be.synchronize();
        close(Tensor.of(a, 6).add(Tensor.of(b, 6)).toFloatArray(), host(out), 0, 0, "binary.add");
    }

    @Test
    void warmStartLoadsKernelsFromDisk() {
        KernelCache c = cuda.kernelCache();
        ops.fill(DeviceTensor.empty(cuda, DType.F32, 4), 1f); // elementwise is compiled or loaded by now
        String identity = c.compilerIdentity();
        KernelCache fresh = new KernelCache(c.directory(), new KernelCompiler() {
            @Override
            public byte[] compile(String name, String source, List<String> options, String arch) {
                throw new AssertionError("recompiled " + name + " although it is cached in " + c.directory());
            }

            @Override
            public String identity() {
                return identity;
            }
        });
        assertTrue(fresh.get("elementwise", KernelSources.source("elementwise"), KernelSources.OPTIONS, cuda.arch()).length > 0);
        assertEquals(1, fresh.diskHits());
    }
}
