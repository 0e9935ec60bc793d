/**
 * Optimization (G1–G5, G9, G18): SGD with momentum, Adam, AdamW (G1), Schedule-Free AdamW (G2), Lion
 * (G18), LR schedules (G3), global-norm clipping (G4), parameter groups with weight-decay
 * exclusions (G5) and dynamic loss scaling for fp16 (G9's GradScaler; autocast is autograd's Autocast).
 */
package dev.tessera.nn.optim;
