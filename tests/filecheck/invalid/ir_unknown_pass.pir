// RUN: pimc opt %s -p canonicalize,no-such-pass
// ERROR: unknown pass 'no-such-pass'; known passes: 
module @m {
  graph @main(%x: tensor<4xf32>) -> (y: tensor<4xf32>) {
    return %x
  }
}
