package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.gpu.GpuSupport;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.norm.RMSNorm;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.GradClip;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fused functions the CUDA backend runs through the seam (RMSNorm, RoPE, cross-entropy forward
 * and backward, the AdamW step, attention forward and backward with the document mask, the masked
 * softmax, the embedding and its gradient, gradient clipping's norm), against the same calls on the
 * CPU. Needs a CUDA device; skipped elsewhere (the seam's CPU side is tested in the gpu module).
 */
@Tag("gpu")
class CudaFusedFunctionsTest {
    private final Generator g = new Generator(21);

    @BeforeEach
    void needsCuda() {
        Assumptions.assumeTrue(GpuSupport.available(), () -> "CUDA not available: " + GpuSupport.unavailableReason().orElse(""));
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.to(Device.CPU).toFloatArray();
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i])), what + "[" + i + "]: expected " + e[i] + ", got " + a[i]);
        }
    }

    /**
     * {@code f} of fresh leaves holding {@code inputs} on each device, its output weighted by a fixed
     * random tensor and summed, backward: outputs and input gradients compared.
     */
    private void sameWithGradients(double tol, Function<Variable[], Variable> f, Tensor... inputs) {
        Tensor[] outs = new Tensor[2];
        Tensor[][] grads = new Tensor[2][inputs.length];
        Tensor weights = null;
        for (Device device : new Device[] {Device.CPU, Device.CUDA}) {
            int d = device == Device.CPU ? 0 : 1;
            Variable[] in = new Variable[inputs.length];
            for (int i = 0; i < in.length; i++) {
                in[i] = Variable.of(inputs[i].to(device), true);
            }
            Variable y = f.apply(in);
            weights = weights == null ? Tensor.randn(g, DType.F32, y.shape()) : weights;
            y.mul(Variable.constant(weights.to(device))).sum().backward();
            outs[d] = y.data();
            for (int i = 0; i < in.length; i++) {
                grads[d][i] = in[i].grad();
            }
        }
        assertClose(outs[0], outs[1], tol, "output");
        for (int i = 0; i < inputs.length; i++) {
            assertClose(grads[0][i], grads[1][i], tol, "gradient " + i);
        }
    }

    @Test
    void rmsNorm() {
        sameWithGradients(1e-4, in -> RMSNorm.apply(in[0], in[1], 1e-5), Tensor.randn(g, DType.F32, 2, 3, 16),
                Tensor.randn(g, DType.F32, 16));
    }

    @Test
    void rope() {
        for (RotaryEmbedding.Convention c : RotaryEmbedding.Convention.values()) {
            sameWithGradients(1e-5, in -> {
                RotaryEmbedding rope = new RotaryEmbedding(8, 10000, c, 16, DType.F32);
                rope.to(in[0].data().device());
                return rope.apply(in[0].transpose(1, 2), 0); // (B, T, H, D) projections viewed as (B, H, T, D)
            }, Tensor.randn(g, DType.F32, 2, 5, 3, 8));
        }
    }

    @Test
    void crossEntropyWithAnIgnoredTarget() {
        Tensor targets = Tensor.of(new long[] {1, 6, Losses.IGNORE_INDEX, 0, 3, 2}, 2, 3);
        sameWithGradients(1e-5, in -> Losses.crossEntropyFused(in[0], targets.to(in[0].data().device())), Tensor.randn(g, DType.F32, 2, 3, 7));
    }

    @Test
    void threeAdamWSteps() {
        Tensor start = Tensor.randn(g, DType.F32, 4, 6);
        List<Tensor> gradients = List.of(Tensor.randn(g, DType.F32, 4, 6), Tensor.randn(g, DType.F32, 4, 6), Tensor.randn(g, DType.F32, 4, 6));
        Tensor[] after = new Tensor[2];
        for (Device device : new Device[] {Device.CPU, Device.CUDA}) {
            Variable p = Variable.of(start.copy().to(device), true); // the CPU step updates its parameter in place
            AdamW opt = new AdamW(ParamGroup.all(List.of(p)), 1e-2, 0.9, 0.95, 1e-8, 0.1);
            for (Tensor grad : gradients) {
                p.setGrad(grad.to(device));
                opt.step();
            }
            assertEquals(device, p.data().device());
            after[device == Device.CPU ? 0 : 1] = p.data();
        }
        assertClose(after[0], after[1], 1e-5, "parameter");
    }

    @Test
    void causalAttentionForward() {
        Tensor[] qkv = {Tensor.randn(g, DType.F32, 1, 2, 130, 8), Tensor.randn(g, DType.F32, 1, 2, 130, 8), Tensor.randn(g, DType.F32, 1, 2, 130, 8)};
        for (boolean flash : new boolean[] {true, false}) { // the fused kernel's path and the causal-block path
            Tensor[] out = new Tensor[2];
            for (Device device : new Device[] {Device.CPU, Device.CUDA}) {
                Variable[] v = new Variable[3];
                for (int i = 0; i < 3; i++) {
                    v[i] = Variable.constant(qkv[i].to(device));
                }
                out[device == Device.CPU ? 0 : 1] = new SoftmaxAttention().withFlash(flash)
                        .attend(v[0], v[1], v[2], new AttentionMask(true, null, 0)).data();
            }
            assertClose(out[0], out[1], 1e-4, "attention (flash " + flash + ")");
        }
    }

    /** (2, t) document ids in runs: 0 0 0 1 1 1 1 2 ... in row 0, shifted by 2 positions in row 1. */
    private static Tensor documents(int t) {
        long[] ids = new long[2 * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i % t + (i / t) * 2) / 7;
        }
        return Tensor.of(ids, 2, t);
    }

    /** The trainer's attention (causal, packed documents) through both fused paths, values and gradients. */
    @Test
    void causalAttentionWithDocumentsForwardAndBackward() {
        Tensor docs = documents(130);
        for (boolean flash : new boolean[] {true, false}) {
            sameWithGradients(1e-4, in -> new SoftmaxAttention().withFlash(flash).attend(in[0], in[1], in[2],
                    new AttentionMask(true, docs.to(in[0].data().device()), 0)), Tensor.randn(g, DType.F32, 2, 2, 130, 8),
                    Tensor.randn(g, DType.F32, 2, 2, 130, 8), Tensor.randn(g, DType.F32, 2, 2, 130, 8));
        }
    }

    /** A short non-causal document mask takes the masked softmax (a BOOL (B, 1, T, S) mask). */
    @Test
    void maskedSoftmaxAttention() {
        Tensor docs = documents(9);
        sameWithGradients(1e-4, in -> new SoftmaxAttention().attend(in[0], in[1], in[2],
                new AttentionMask(false, docs.to(in[0].data().device()), 0)),
                Tensor.randn(g, DType.F32, 2, 3, 9, 8), Tensor.randn(g, DType.F32, 2, 3, 9, 8), Tensor.randn(g, DType.F32, 2, 3, 9, 8));
    }

    /** The gather exactly, and the scatter-add's bits: the kernel adds in position order as the host does. */
    @Test
    void embeddingAndItsGradient() {
        Tensor ids = Tensor.of(new long[] {3, 1, 3, 0, 10, 3, 1, 7, 7, 3}, 2, 5);
        sameWithGradients(0, in -> in[0].embedding(ids.to(in[0].data().device())), Tensor.randn(g, DType.F32, 11, 8));
    }

    /** Gradient clipping's norm: the device's double tree sum against the host's sequential one. */
    @Test
    void gradClipTotalNorm() {
        List<Tensor> grads = List.of(Tensor.randn(g, DType.F32, 300, 7), Tensor.randn(g, DType.F32, 5), Tensor.randn(g, DType.F32, 70000));
        double[] norms = new double[2];
        for (Device device : new Device[] {Device.CPU, Device.CUDA}) {
            List<Variable> params = grads.stream().map(t -> {
                Variable p = Variable.of(Tensor.zeros(DType.F32, t.shape()).to(device), true);
                p.setGrad(t.to(device));
                return p;
            }).toList();
            norms[device == Device.CPU ? 0 : 1] = GradClip.totalNorm(params);
        }
        assertEquals(norms[0], norms[1], 1e-12 * norms[0], "total norm");
    }
}
