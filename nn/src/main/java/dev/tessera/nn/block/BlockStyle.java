package dev.tessera.nn.block;

/**
 * How attention and the MLP combine in one block (A6). SERIAL: x ← x + attn(N(x)); x ← x +
 * mlp(N(x)). PARALLEL (GPT-J, Wang &amp; Komatsuzaki 2021; PaLM, Chowdhery et al. 2022): one shared
 * norm and y = x + attn(N(x)) + mlp(N(x)).
 */
public enum BlockStyle { SERIAL, PARALLEL }
