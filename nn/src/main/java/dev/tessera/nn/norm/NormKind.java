package dev.tessera.nn.norm;

import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;

/** Which normalization a block uses (A2); {@link #create} builds one over {@code dim}. */
public enum NormKind {
    LAYER_NORM,
    RMS_NORM;

    /** A LayerNorm (with or without bias, A3) or an RMSNorm, both with a learned weight. */
    public Module create(int dim, double eps, boolean bias, DType dtype) {
        return switch (this) {
            case LAYER_NORM -> new LayerNorm(dim, eps, true, bias, dtype);
            case RMS_NORM -> new RMSNorm(dim, eps, true, dtype);
        };
    }
}
