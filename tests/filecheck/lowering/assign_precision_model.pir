// RUN: pimc opt %s -p "assign-precision{mode=model,default=16}" | filecheck %s

// Model: weight bits from the weight's type, activation bits from the input's type; ops whose
// types carry no bits take the default.
// CHECK:      rec.dense(%x, %w) {activation = "relu", pim.a_bits = 8, pim.w_bits = 4, pim.x_scale = {{.*}}} : tensor<2x2xf32, bits=8>
// CHECK-NEXT: nn.sigmoid(%{{.*}}) {pim.a_bits = 16, pim.w_bits = 16} : tensor<2x2xf32, bits=16>
module @model {
  graph @main(%x: tensor<2x3xf32, bits=8>) -> (y: tensor<2x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, -2.0, 0.5, 0.25, -1.0, 4.0]>} : tensor<3x2xf32, bits=4>
    %0 = rec.dense(%x, %w) {activation = "relu"} : tensor<2x2xf32>
    %1 = nn.sigmoid(%0) : tensor<2x2xf32>
    return %1
  }
}
