// RUN: pimc opt %s -p "assign-precision{default=8},partition{target=isaac},tile" | filecheck %s

// A rec.gru on crossbars: W's tile once over all three steps, then a copy of R's tile per
// step that has a state to multiply (from a zero h0, step 0 has none: only rb is added);
// each step's gates on the digital units read the step before. Nothing of the GRU stays.
// CHECK-LABEL: module @gru
// CHECK-NOT:  rec.gru
// CHECK:      pim.mvm(%x, {{.*}}) {op = "gru0.w", tile = [0, 0], rows = [0, 2], cols = [0, 3]
// CHECK-SAME: pim.unit = "crossbar"} : tensor<3x2x3xf32
// CHECK-NOT:  op = "gru0.r0"
// CHECK:      nn.sigmoid
// CHECK:      nn.tanh
// CHECK:      pim.mvm({{.*}}) {op = "gru0.r1", tile = [0, 0], rows = [0, 1], cols = [0, 3]
// CHECK-SAME: pim.unit = "crossbar"} : tensor<2x3xf32
// CHECK:      nn.tanh
// CHECK:      pim.mvm({{.*}}) {op = "gru0.r2", tile = [0, 0]
// CHECK:      nn.tanh
// CHECK:      nn.concat({{.*}}) {axis = 0{{.*}}} : tensor<3x2x1xf32
// CHECK-NOT:  rec.gru
// CHECK-NOT:  pim.mvm
module @gru {
  graph @main(%x: tensor<3x2x2xf32>) -> (y: tensor<3x2x1xf32>) {
    %0 = nn.constant {value = dense<2x3xf32, [0.2, 0.2, 0.5, 0.5, -0.8, 0.3]>} : tensor<2x3xf32>
    %1 = nn.constant {value = dense<1x3xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3xf32>
    %2 = nn.constant {value = dense<3xf32, [0.2, 0.0, 0.3]>} : tensor<3xf32>
    %3 = nn.constant {value = dense<3xf32, [-0.4, -0.1, -0.3]>} : tensor<3xf32>
    %4 = nn.constant {value = dense<2x1xf32, [0.0, 0.0]>} : tensor<2x1xf32>
    %5 = rec.gru(%x, %0, %1, %2, %3, %4) {linear_before_reset = true} : tensor<3x2x1xf32>
    return %5
  }
}
