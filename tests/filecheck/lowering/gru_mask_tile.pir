// RUN: pimc opt %s -p "assign-precision{default=8},partition{target=isaac},tile" | filecheck %s

// A rec.gru with a step mask (rows' lengths, a runtime input) and a nonzero h0: W's and R's
// tiles on crossbars as without a mask (R from step 0 on); 1 - mask once, then each step's
// state m h_new + (1 - m) h on the digital units, the next step's R tile reading it.
// CHECK-LABEL: module @gru_mask
// CHECK-NOT:  rec.gru
// CHECK:      %[[H0:.*]] = nn.constant {value = dense<2x1xf32, [0.5, -0.5]>
// CHECK:      pim.mvm(%x, {{.*}}) {op = "gru0.w"
// CHECK-SAME: pim.unit = "crossbar"
// CHECK:      %[[K:.*]] = nn.sub({{.*}}, %m) {{.*}}pim.unit = "digital"{{.*}} : tensor<3x2x1xf32
// CHECK:      pim.mvm(%[[H0]], {{.*}}) {op = "gru0.r0"
// CHECK-SAME: pim.unit = "crossbar"
// CHECK:      nn.tanh
// CHECK:      %[[N:.*]] = nn.add
// CHECK-NEXT: %[[M0:.*]] = nn.slice(%m) {starts = [0], ends = [1], axes = [0]
// CHECK-NEXT: %[[M:.*]] = nn.squeeze(%[[M0]])
// CHECK-NEXT: %[[K0:.*]] = nn.slice(%[[K]]) {starts = [0], ends = [1], axes = [0]
// CHECK-NEXT: %[[KS:.*]] = nn.squeeze(%[[K0]])
// CHECK-NEXT: %[[A:.*]] = nn.mul(%[[M]], %[[N]]) {{.*}}pim.unit = "digital"
// CHECK-NEXT: %[[B:.*]] = nn.mul(%[[KS]], %[[H0]]) {{.*}}pim.unit = "digital"
// CHECK-NEXT: %[[H1:.*]] = nn.add(%[[A]], %[[B]]) {{.*}}pim.unit = "digital"
// CHECK:      pim.mvm(%[[H1]], {{.*}}) {op = "gru0.r1"
// CHECK-SAME: pim.unit = "crossbar"
// CHECK:      pim.mvm({{.*}}) {op = "gru0.r2"
// CHECK:      nn.concat({{.*}}) {axis = 0{{.*}}} : tensor<3x2x1xf32
// CHECK-NOT:  rec.gru
// CHECK-NOT:  pim.mvm
module @gru_mask {
  graph @main(%x: tensor<3x2x2xf32>, %m: tensor<3x2x1xf32>) -> (y: tensor<3x2x1xf32>) {
    %0 = nn.constant {value = dense<2x3xf32, [0.2, 0.2, 0.5, 0.5, -0.8, 0.3]>} : tensor<2x3xf32>
    %1 = nn.constant {value = dense<1x3xf32, [-0.3, 0.3, 0.2]>} : tensor<1x3xf32>
    %2 = nn.constant {value = dense<3xf32, [0.2, 0.0, 0.3]>} : tensor<3xf32>
    %3 = nn.constant {value = dense<3xf32, [-0.4, -0.1, -0.3]>} : tensor<3xf32>
    %4 = nn.constant {value = dense<2x1xf32, [0.5, -0.5]>} : tensor<2x1xf32>
    %5 = rec.gru(%x, %0, %1, %2, %3, %4, %m) {linear_before_reset = true} : tensor<3x2x1xf32>
    return %5
  }
}
