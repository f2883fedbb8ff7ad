// ERROR: ir_type_mismatch.pir: @main op #0 (nn.transpose): result type tensor<2x3xf32> does not match the inferred tensor<3x2xf32>
module @bad {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x3xf32>) {
    %0 = nn.transpose(%x) {perm = [1, 0]} : tensor<2x3xf32>
    return %0
  }
}
