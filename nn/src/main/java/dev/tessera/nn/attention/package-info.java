/**
 * Attention (A8, A9, A11–A13, B): {@link dev.tessera.nn.attention.MultiHeadAttention} (MHA, MQA,
 * GQA, QK-norm) with its {@link dev.tessera.nn.attention.KvCache} and
 * {@link dev.tessera.nn.attention.AttentionMask} (causal and document masks), the
 * {@link dev.tessera.nn.attention.AttentionKernel} seam, and the kernels behind it, one file each,
 * chosen by {@link dev.tessera.nn.attention.AttentionKind}: softmax (with
 * {@link dev.tessera.nn.attention.SoftCap} A12 and {@link dev.tessera.nn.attention.LogitScale} A13),
 * KeyNorm (B1), Performer FAVOR+ (B2), memory-efficient exact attention (B4).
 */
package dev.tessera.nn.attention;
