// RUN: pimc opt %s -p "fuse-interactions{rules=dense+bogus}"
// ERROR: unknown fusion rule 'bogus'; known: all, dense, batch-norm, layer-norm, embedding, masked-pool, dot-interaction, fm, pairwise, bilinear, cross, cross-mix, attention, gating, moe, attention-pool, efc
module @m {
  graph @main(%x: tensor<4xf32>) -> (y: tensor<4xf32>) {
    return %x
  }
}
