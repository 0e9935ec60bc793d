/**
 * Tessera tensors: {@code Tensor} (shape, strides, dtype, device, storage), views and
 * broadcasting, the op set, the CPU kernels on the Vector API, GEMM, the thread pool, the
 * {@code Backend} seam and safetensors I/O.
 *
 * <p>The kernels use the incubating Vector API, so this module requires
 * {@code jdk.incubator.vector}: on the module path the JVM then resolves it by itself; on the
 * class path an application must add {@code --add-modules jdk.incubator.vector} to its
 * {@code java} command (see the README's "Embedding Tessera in your application").
 */
module dev.tessera.tensor {
    // transitive: the public Simd class names the vector species in use (the info command prints them)
    requires transitive jdk.incubator.vector;

    exports dev.tessera.tensor;

    uses dev.tessera.tensor.Backend;
}
