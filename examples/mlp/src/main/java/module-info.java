/**
 * The MLP example runs on the module path: requiring dev.tessera.nn reads autograd, tensor and the
 * Vector API transitively, so its java command needs no --add-modules.
 */
module example.mlp {
    requires dev.tessera.nn;
}
