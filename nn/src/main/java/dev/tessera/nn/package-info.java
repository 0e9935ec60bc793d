/**
 * The core of nn: {@link dev.tessera.nn.Module} (named parameters, buffers, submodules, state
 * dicts), {@link dev.tessera.nn.ModuleList}, {@link dev.tessera.nn.Layer}, {@link dev.tessera.nn.Linear},
 * {@link dev.tessera.nn.Embedding}, {@link dev.tessera.nn.Dropout} (A14), the initialisers of
 * {@link dev.tessera.nn.Init}, {@link dev.tessera.nn.Params} (layers in a chosen dtype) and the
 * {@link dev.tessera.nn.Catalog} of every component ID of {@code COMPONENTS.md} (its class, switch,
 * test and state). Components live in subpackages by kind, so a component is found from its ID's
 * letter and its kind:
 * <ul>
 *   <li>{@code attention}: the multi-head module, masks, KV cache and every attention kernel (A8,
 *       A9, A11–A13, B)</li>
 *   <li>{@code position}: positional encodings, including those that are attention biases (A7, C)</li>
 *   <li>{@code norm}: norms, where they sit, residual schemes and depth-aware initialisation (A1, A2, D)</li>
 *   <li>{@code ffn}: feed-forward blocks and activations (A4, A5, E)</li>
 *   <li>{@code loss}: training losses (A10, G14, G15)</li>
 *   <li>{@code optim}: optimizers, LR schedules, clipping, parameter groups (G)</li>
 *   <li>{@code block}: blocks, embeddings and heads, and the stacks that assemble them (A6, A15, A16)</li>
 *   <li>{@code internal}: helpers shared by fused kernels of several packages; not an API</li>
 * </ul>
 * Token mixers without attention (E), memory (F), adaptation (H1, H2, H9) and quantization (H3–H5,
 * H12) get their own packages ({@code mixer}, {@code memory}, {@code adapt}, {@code quant}) with
 * their first component.
 */
package dev.tessera.nn;
