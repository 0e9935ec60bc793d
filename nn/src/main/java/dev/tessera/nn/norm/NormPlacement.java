package dev.tessera.nn.norm;

/**
 * Where a block normalises (A1). With sublayer f and norm N:
 * <ul>
 *   <li>PRE (GPT-2, Llama; Xiong et al. 2020): x + f(N(x))</li>
 *   <li>POST (Vaswani et al. 2017, BERT): N(x + f(x))</li>
 *   <li>SANDWICH (CogView, Ding et al. 2021; NormFormer; Gemma 2): x + N₂(f(N₁(x)))</li>
 * </ul>
 */
public enum NormPlacement { PRE, POST, SANDWICH }
