package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E15: the Legendre Memory Unit (Voelker, Kajić, Eliasmith 2019, "Legendre Memory Units:
 * Continuous-Time Representation in Recurrent Neural Networks", NeurIPS), as a token mixer: a fixed
 * linear memory that holds the last θ steps of its input as coefficients of shifted Legendre
 * polynomials, read by a learned nonlinear layer.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, U memory inputs, d order (Legendre coefficients per input).
 *
 *   θ ṁ(t) = A m(t) + B u(t),   A_ij = (2i+1)·(−1 if i &lt; j, else (−1)^{i−j+1}),   B_i = (2i+1)·(−1)^i
 *   Ā = e^{A/θ},  B̄ = ∫₀¹ e^{As/θ} ds · B/θ                  zero-order hold, step 1 (fixed, not learned)
 *   u_t = E x_t                                               (B, T, U)     E = input_encoders (U, C)
 *   m_t = Ā m_{t−1} + B̄ u_t                                   (B, T, U, d)  per memory input
 *   h_t = tanh(W_x x_t + W_m vec(m_t) + b)                    (B, T, C)
 * </pre>
 *
 * By default this is the memory-only LMU that Chilkuri and Eliasmith (2021, "Parallelizing Legendre
 * Memory Unit Training", ICML) derive from the 2019 cell. With {@code feedback} it is the 2019 cell
 * itself (eq. 1, 3, 4), whose input and hidden state also read the previous step:
 *
 * <pre>
 *   u_t = E x_t + E_h h_{t−1} + E_m vec(m_{t−1}),   h_t = tanh(W_x x_t + W_h h_{t−1} + W_m vec(m_t) + b)
 * </pre>
 *
 * which is nonlinear in time, so that form runs only as a loop, one step after another (training
 * and decoding alike; the state is then m and h). Without the feedbacks the
 * memory is a linear time-invariant system, so training runs it as a causal convolution,
 * m_t = Σ_{j≤t} Ā^{t−j} B̄ u_j, here a Toeplitz matrix product (T² · d per input), and decoding runs
 * the recurrence with m (B, 1, U, d) in the {@link MixerState}: O(1) per token. Ā and B̄ come from
 * one matrix exponential of the augmented matrix [[A, B], [0, 0]]/θ (Van Loan 1978), computed in
 * doubles by scaling and squaring; a fixture written by {@code nn/tools/golden_e15_lmu.py} checks
 * them against scipy.signal.cont2discrete. Packed training rows (the mask's document ids) restart
 * the memory at each document's first token.
 */
public final class Lmu extends Module implements TokenMixer {

    /**
     * @param order d, the number of Legendre coefficients per memory input
     * @param theta θ, the window the memory represents, in steps
     * @param units U, the number of memory inputs
     * @param feedback the 2019 cell's h_{t−1}, m_{t−1} feedbacks (sequential only), else the memory-only form
     */
    public record Options(int order, double theta, int units, boolean feedback) {
        public Options {
            if (order < 1 || !(theta > 0 && Double.isFinite(theta)) || units < 1) {
                throw new IllegalArgumentException("mixer lmu: need order >= 1, theta > 0 and units >= 1, got order=" + order + " theta="
                        + theta + " units=" + units);
            }
        }
    }

    private final int c;
    private final int d;
    private final int u;
    private final double[] aBar; // (d, d) row-major
    private final double[] bBar; // (d)
    private final Variable encoders;
    private final Variable inputKernel;
    private final Variable memoryKernel;
    private final Variable bias;
    private final Variable hiddenEncoders; // E_h (U, C), null without feedback
    private final Variable memoryEncoders; // E_m (U, U·d)
    private final Variable hiddenKernel; // W_h (C, C)

    /** An LMU over width {@code dim}: its discretised memory from the options, weights N(0, 1/fan-in) from {@code g}. */
    public Lmu(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer lmu: width must be positive, got " + dim);
        }
        this.c = dim;
        this.d = o.order();
        this.u = o.units();
        double[][] zoh = discretise(d, o.theta());
        aBar = zoh[0];
        bBar = zoh[1];
        encoders = parameter("input_encoders", Tensor.randn(g, dtype, u, c).mul(1 / Math.sqrt(c)));
        inputKernel = parameter("input_kernel", Tensor.randn(g, dtype, c, c).mul(1 / Math.sqrt(c)));
        memoryKernel = parameter("memory_kernel", Tensor.randn(g, dtype, c, u * d).mul(1 / Math.sqrt(u * d)));
        bias = parameter("bias", Tensor.zeros(dtype, c));
        hiddenEncoders = o.feedback() ? parameter("hidden_encoders", Tensor.randn(g, dtype, u, c).mul(1 / Math.sqrt(c))) : null;
        memoryEncoders = o.feedback() ? parameter("memory_encoders", Tensor.randn(g, dtype, u, u * d).mul(1 / Math.sqrt(u * d))) : null;
        hiddenKernel = o.feedback() ? parameter("hidden_kernel", Tensor.randn(g, dtype, c, c).mul(1 / Math.sqrt(c))) : null;
    }

    /** The continuous (A, B) of the paper for order d, as {A (d·d row-major), B (d)}. */
    public static double[][] continuous(int d) {
        double[] a = new double[d * d];
        double[] b = new double[d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                a[i * d + j] = (2 * i + 1) * (i < j ? -1 : ((i - j + 1) % 2 == 0 ? 1 : -1));
            }
            b[i] = (2 * i + 1) * (i % 2 == 0 ? 1 : -1);
        }
        return new double[][] {a, b};
    }

    /** Zero-order hold of θ ṁ = A m + B u with step 1: {Ā (d·d row-major), B̄ (d)}, from e^{[[A, B], [0, 0]]/θ}. */
    public static double[][] discretise(int d, double theta) {
        double[][] ab = continuous(d);
        int n = d + 1;
        double[] m = new double[n * n];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                m[i * n + j] = ab[0][i * d + j] / theta;
            }
            m[i * n + d] = ab[1][i] / theta;
        }
        double[] e = expm(m, n);
        double[] a = new double[d * d];
        double[] b = new double[d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(e, i * n, a, i * d, d);
            b[i] = e[i * n + d];
        }
        return new double[][] {a, b};
    }

    /** e^M for an n × n row-major M: scaling and squaring, with a Taylor series to machine precision on the scaled matrix. */
    static double[] expm(double[] m, int n) {
        double norm = 0;
        for (int i = 0; i < n; i++) {
            double row = 0;
            for (int j = 0; j < n; j++) {
                row += Math.abs(m[i * n + j]);
            }
            norm = Math.max(norm, row);
        }
        int squarings = Math.max(0, (int) Math.ceil(Math.log(Math.max(norm, 1e-300) / 0.25) / Math.log(2)));
        double scale = Math.pow(2, -squarings);
        double[] x = new double[n * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = m[i] * scale;
        }
        double[] sum = identity(n);
        double[] term = identity(n);
        for (int k = 1; k <= 30; k++) { // ‖X‖ ≤ 1/4: 1/4^30/30! is far below double rounding
            term = multiply(term, x, n);
            for (int i = 0; i < term.length; i++) {
                term[i] /= k;
                sum[i] += term[i];
            }
        }
        for (int s = 0; s < squarings; s++) {
            sum = multiply(sum, sum, n);
        }
        return sum;
    }

    private static double[] identity(int n) {
        double[] id = new double[n * n];
        for (int i = 0; i < n; i++) {
            id[i * n + i] = 1;
        }
        return id;
    }

    private static double[] multiply(double[] a, double[] b, int n) {
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < n; j++) {
                    out[i * n + j] += a[i * n + k] * b[k * n + j];
                }
            }
        }
        return out;
    }

    /** {Ā, B̄} as this mixer uses them (copies). */
    public double[][] discretised() {
        return new double[][] {aBar.clone(), bBar.clone()};
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        check(x);
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer lmu", mask, b, t, state, x); // (B, T, 1) or null
        if (hiddenKernel != null) {
            return cell(x, carry, state);
        }
        Variable in = x.matmul(encoders.mT()); // (B, T, U)
        Variable m;
        if (state == null) {
            m = convolution(in, carry);
        } else {
            Tensor[] held = state.tensors();
            m = recurrent(in, held == null ? null : Variable.constant(held[0]));
            state.advance(new Tensor[] {m.data().narrow(1, t - 1, 1).copy()}, t);
        }
        return hidden(x, m);
    }

    /** The recurrent form from the zero memory, kept in the graph (for the tests: equal to the convolution of {@link #forward}). */
    public Variable recurrence(Variable x) {
        check(x);
        return hiddenKernel != null ? cell(x, null, null) : hidden(x, recurrent(x.matmul(encoders.mT()), null));
    }

    /** The 2019 cell with its feedbacks, one step at a time from {@code state} (m, h) or zero; advances it. */
    private Variable cell(Variable x, Tensor carry, MixerState state) {
        int b = x.size(0);
        int t = x.size(1);
        Tensor[] held = state == null ? null : state.tensors();
        Variable m = held == null ? OnDevice.zeros(x, b, 1, u, d) : Variable.constant(held[0]); // (B, 1, U, d)
        Variable h = held == null ? OnDevice.zeros(x, b, 1, c) : Variable.constant(held[1]); // (B, 1, C)
        Variable aT = OnDevice.constant(Tensor.of(aBar, d, d).to(x.dtype()).mT().contiguous(), x); // Āᵀ
        Variable bRow = OnDevice.constant(Tensor.of(bBar, d), x); // B̄ (d)
        Variable fromX = x.matmul(encoders.mT()); // (B, T, U)
        Variable xk = x.matmul(inputKernel.mT()).add(bias); // (B, T, C)
        Variable[] hs = new Variable[t];
        for (int s = 0; s < t; s++) {
            if (carry != null) { // a document starts: forget m and h
                Variable keep = Variable.constant(carry.narrow(1, s, 1)); // (B, 1, 1)
                m = m.mul(keep.unsqueeze(3));
                h = h.mul(keep);
            }
            Variable in = fromX.narrow(1, s, 1).add(h.matmul(hiddenEncoders.mT())).add(m.reshape(b, 1, u * d).matmul(memoryEncoders.mT()));
            m = m.matmul(aT).add(in.unsqueeze(3).mul(bRow)); // (B, 1, U, d)
            h = xk.narrow(1, s, 1).add(h.matmul(hiddenKernel.mT())).add(m.reshape(b, 1, u * d).matmul(memoryKernel.mT())).tanh();
            hs[s] = h;
        }
        if (state != null) {
            state.advance(new Tensor[] {m.data().copy(), h.data().copy()}, t);
        }
        return t == 1 ? hs[0] : Variable.cat(1, hs);
    }

    /** h = tanh(W_x x + W_m vec(m) + b) from x (B, T, C) and m (B, T, U, d). */
    private Variable hidden(Variable x, Variable m) {
        Variable flat = m.reshape(m.size(0), m.size(1), u * d); // (B, T, U·d)
        return x.matmul(inputKernel.mT()).add(flat.matmul(memoryKernel.mT())).add(bias).tanh();
    }

    /** m (B, T, U, d) = Σ_{j≤t} Ā^{t−j} B̄ u_j as one product with a causal Toeplitz matrix (T, T·d), per row where documents restart it. */
    private Variable convolution(Variable in, Tensor carry) {
        int b = in.size(0);
        int t = in.size(1);
        double[][] h = new double[t][]; // H_l = Ā^l B̄ (d)
        h[0] = bBar.clone();
        for (int l = 1; l < t; l++) {
            h[l] = new double[d];
            for (int i = 0; i < d; i++) {
                for (int k = 0; k < d; k++) {
                    h[l][i] += aBar[i * d + k] * h[l - 1][k];
                }
            }
        }
        int rows = carry == null ? 1 : b;
        double[] toeplitz = new double[rows * t * t * d];
        for (int r = 0; r < rows; r++) {
            int start = 0;
            for (int q = 0; q < t; q++) {
                if (carry != null && carry.getDouble(r, q, 0) == 0) {
                    start = q;
                }
                for (int j = start; j <= q; j++) {
                    System.arraycopy(h[q - j], 0, toeplitz, ((r * t + j) * t + q) * d, d);
                }
            }
        }
        Variable k = OnDevice.constant(Tensor.of(toeplitz, rows, t, t * d), in); // (B or 1, T_j, T_t·d)
        Variable m = in.transpose(1, 2).matmul(k); // (B, U, T·d)
        return m.reshape(b, u, t, d).permute(0, 2, 1, 3); // (B, T, U, d)
    }

    /** m_t = Ā m_{t−1} + B̄ u_t one step at a time from {@code m0} (B, 1, U, d) or zero: (B, T, U, d). */
    private Variable recurrent(Variable in, Variable m0) {
        int t = in.size(1);
        Variable aT = OnDevice.constant(Tensor.of(aBar, d, d).to(in.dtype()).mT().contiguous(), in); // (d, d) = Āᵀ
        Variable bRow = OnDevice.constant(Tensor.of(bBar, d), in); // (d)
        Variable m = m0;
        Variable[] ms = new Variable[t];
        for (int s = 0; s < t; s++) {
            Variable drive = in.narrow(1, s, 1).unsqueeze(3).mul(bRow); // (B, 1, U, d)
            m = m == null ? drive : m.matmul(aT).add(drive);
            ms[s] = m;
        }
        return t == 1 ? ms[0] : Variable.cat(1, ms);
    }

    private void check(Variable x) {
        MixerInput.check("mixer lmu", x, c);
    }

    @Override
    public String toString() {
        return "Lmu(C=" + c + ", d=" + d + ", U=" + u + ")";
    }
}
