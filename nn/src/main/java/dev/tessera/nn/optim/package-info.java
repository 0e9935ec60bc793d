/**
 * Optimization (G1–G5, G18): SGD with momentum, Adam, AdamW (G1), Schedule-Free AdamW (G2), Lion
 * (G18), LR schedules (G3), global-norm clipping (G4) and parameter groups with weight-decay
 * exclusions (G5).
 */
package dev.tessera.nn.optim;
