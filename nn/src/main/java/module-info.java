/**
 * Tessera neural-network components: {@code Module}, {@code Parameter}, the components in
 * subpackages by kind, optimisers and schedules. Every package is exported except
 * {@code dev.tessera.nn.internal}, which holds helpers shared by the components and is not API.
 *
 * <p>A new component package must be added here as one {@code exports} line; the test
 * {@code ModuleDescriptorsTest} in {@code models} fails, naming the package, when one is missed.
 */
module dev.tessera.nn {
    requires transitive dev.tessera.autograd;

    exports dev.tessera.nn;
    exports dev.tessera.nn.attention;
    exports dev.tessera.nn.block;
    exports dev.tessera.nn.ffn;
    exports dev.tessera.nn.graph;
    exports dev.tessera.nn.loss;
    exports dev.tessera.nn.mixer;
    exports dev.tessera.nn.norm;
    exports dev.tessera.nn.optim;
    exports dev.tessera.nn.position;
}
