package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;

/**
 * Pointwise activations of the modern recipe (A4), composed from autograd primitives.
 * <ul>
 *   <li>RELU: max(0, x)</li>
 *   <li>GELU_ERF (Hendrycks &amp; Gimpel 2016): x·Φ(x) = x·½(1 + erf(x/√2))</li>
 *   <li>GELU_TANH: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's approximation)</li>
 *   <li>SILU / Swish (Ramachandran et al. 2017, β = 1): x·σ(x)</li>
 *   <li>SQUARED_RELU (So et al. 2021, Primer): max(0, x)²</li>
 *   <li>SIGMOID: σ(x) = 1/(1 + e^(−x)) (the gate of Dauphin et al.'s GLU)</li>
 * </ul>
 */
public enum Activation {
    RELU,
    GELU_ERF,
    GELU_TANH,
    SILU,
    SQUARED_RELU,
    SIGMOID;

    public Variable apply(Variable x) {
        return switch (this) {
            case RELU -> x.relu();
            case GELU_ERF -> x.gelu();
            case GELU_TANH -> x.geluTanh();
            case SILU -> x.silu();
            case SQUARED_RELU -> x.relu().square();
            case SIGMOID -> x.sigmoid();
        };
    }
}
