/**
 * Helpers shared by the fused kernels of several nn packages (loss, norm, position, ffn). Public
 * only so that those packages can reach them; not an API.
 */
package dev.tessera.nn.internal;
