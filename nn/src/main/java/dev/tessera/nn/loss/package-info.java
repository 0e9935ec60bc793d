/**
 * Training losses (A10, G14): cross-entropy with ignore index and label smoothing (composite and
 * fused), z-loss, mean squared error, in {@link dev.tessera.nn.loss.Losses}.
 */
package dev.tessera.nn.loss;
