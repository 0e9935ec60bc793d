package dev.tessera.tensor;

/** Element types. Floating types compute in F32 (halves widen) or F64; integers in 64-bit. */
public enum DType {
    F32(4, true, "float32"),
    F64(8, true, "float64"),
    BF16(2, true, "bfloat16"),
    F16(2, true, "float16"),
    I32(4, false, "int32"),
    I64(8, false, "int64"),
    BOOL(1, false, "bool");

    private final int byteSize;
    private final boolean floating;
    private final String torchName;

    DType(int byteSize, boolean floating, String torchName) {
        this.byteSize = byteSize;
        this.floating = floating;
        this.torchName = torchName;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return floating;
    }

    /** The name PyTorch prints, e.g. {@code float32}. */
    public String torchName() {
        return torchName;
    }

    /**
     * Type promotion as PyTorch does for two tensors of the same category rank: any float beats any
     * integer; among floats F64 &gt; F32 &gt; {BF16, F16} (mixing the two halves gives F32); among
     * integers I64 &gt; I32 &gt; BOOL.
     */
    public static DType promote(DType a, DType b) {
        if (a == b) {
            return a;
        }
        if (a.floating != b.floating) {
            return a.floating ? a : b;
        }
        if (a.floating) {
            if (a == F64 || b == F64) {
                return F64;
            }
            return F32; // F32 with a half, or BF16 with F16
        }
        if (a == I64 || b == I64) {
            return I64;
        }
        return I32;
    }

    /** The type kernels actually compute in: halves widen to F32, I32/BOOL to I64. */
    DType computeType() {
        return switch (this) {
            case F32, BF16, F16 -> F32;
            case F64 -> F64;
            case I32, I64, BOOL -> I64;
        };
    }
}
